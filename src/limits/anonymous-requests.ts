import type { Context, Middleware } from 'koa';
import { peekForm } from '../web/form-peek.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { formHandedToProvider } from '../oidc-provider/internals.js';
import { LIMIT_NAMES, type RefusalCounter } from './limit-names.js';
import type { RateLimit } from './rate-limit.js';
import { tooManyRequestsJson, tooManyRequestsPage } from './too-many-requests.js';

/**
 * The endpoints that store something for anyone: authorization (an interaction), end-session and
 * the device code page (a session holding its form's token), device authorization (a device code)
 * and pushed authorization requests (a request).
 */
export type AnonymousRequestPaths = Pick<
  Paths,
  'authorization' | 'endSession' | 'device' | 'deviceAuthorization' | 'pushedAuthorization' | 'assets'
>;

/** Parameters by which a client authenticates in the body (RFC 6749 §2.3.1, RFC 7523 §2.2). */
const CREDENTIAL_PARAMS = ['client_secret', 'client_assertion'];

/**
 * Whether the request carries client credentials. oidc-provider authenticates a client before
 * it stores anything, and stores nothing when that fails, so only requests without credentials
 * (public clients) are anyone's to repeat. The body is read the way oidc-provider takes it over.
 */
async function presentsClientCredentials(ctx: Context): Promise<boolean | undefined> {
  if (ctx.get('Authorization')) return true;
  if (!ctx.is('application/x-www-form-urlencoded')) return false;
  const parsed = formHandedToProvider(ctx.req);
  if (parsed) return CREDENTIAL_PARAMS.some((name) => parsed[name] !== undefined);
  if (ctx.req.readableEnded) return false;
  const form = await peekForm(ctx);
  if (!form) return undefined; // too large: peekForm answered 400
  return CREDENTIAL_PARAMS.some((name) => form.has(name));
}

/**
 * The contract's "Trust": endpoints that store something for a caller who has proved nothing —
 * the authorization endpoint, the sign-out and device pages (each stores a session), device
 * authorization and pushed authorization requests of public clients — are limited per client
 * address (ctx.ip, derived per TRUST_PROXY), so one address cannot fill the database. One
 * counter per address covers them all; past it, 429 with Retry-After: JSON on the two OAuth
 * endpoints, a page on the others. Sign-in and code entry have their own, stricter throttles.
 */
export function anonymousRequestLimit(options: {
  paths: AnonymousRequestPaths;
  limit: RateLimit;
  refused: RefusalCounter;
}): Middleware {
  const { paths, limit, refused } = options;
  const pages = new Set([paths.authorization, paths.endSession, paths.device]);
  const oauthEndpoints = new Set([paths.deviceAuthorization, paths.pushedAuthorization]);
  return gated(
    (ctx) => pages.has(ctx.path) || (ctx.method === 'POST' && oauthEndpoints.has(ctx.path)),
    async (ctx, next) => {
      const isPage = pages.has(ctx.path);
      if (!isPage) {
        const authenticated = await presentsClientCredentials(ctx);
        if (authenticated === undefined) return undefined;
        if (authenticated) return next();
      }
      const verdict = await limit.take(ctx.ip);
      if (verdict.allowed) return next();
      refused(LIMIT_NAMES.anonymous);
      if (isPage) tooManyRequestsPage(ctx, paths.assets, verdict.retryAfterSeconds);
      else tooManyRequestsJson(ctx, verdict.retryAfterSeconds);
      return undefined;
    },
  );
}
