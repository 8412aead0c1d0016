import type { Context, Middleware, Next } from 'koa';
import { provesClient, provesClientWithoutAssertion, type CertificateRules } from '../clients/client-authentication.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { basicClientId, presentedClientCredentials } from '../oidc-provider/internals.js';
import { peekForm } from '../web/form-peek.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { LIMIT_NAMES, type RefusalCounter } from './limit-names.js';
import { limitsByRate } from './limits-by-rate.js';
import type { RateLimitStore } from './rate-limit-store.js';
import { tooManyRequestsJson } from './too-many-requests.js';

/** Stands for the body when the client is named by the Authorization header; never written to. */
const NO_FORM = new URLSearchParams();

export interface ClientRateLimitOptions {
  paths: Pick<Paths, 'token'>;
  /** The issuer, which (with the token endpoint's URL) a client assertion is addressed to. */
  issuer: string;
  directory: ClientDirectory;
  store: RateLimitStore;
  refused: RefusalCounter;
  /** A certificate client proves itself by the request's certificate. */
  certificates: CertificateRules;
}

/**
 * The contract's "Operations": `clients create|update --rate-limit` bounds a client's requests to
 * the token endpoint across all instances; beyond it, 429 with Retry-After and RFC 6749 JSON,
 * before oidc-provider issues (or stores) anything.
 *
 * Only requests that prove to be the client count. The client is read from the Directory
 * (cached: a changed limit applies on each instance within its freshness window, 5 s), and the
 * caller's credentials are checked here first — a SHA-256 and a constant-time compare, only for
 * clients that have a limit — so someone who names a victim's client_id without its secret
 * cannot use up the victim's limit. Counting first and giving the point back once oidc-provider
 * answered invalid_client would also keep the count right in the end, but while such requests
 * are in flight their points are taken, so a flood of them would still refuse the real client,
 * and each would cost a second write. Requests that fail here go on to oidc-provider, which
 * refuses them (and the per-address failure limit counts them). A private_key_jwt client proves
 * itself by its assertion: verified here (signature with one of its keys, iss, sub, aud, exp)
 * before counting, as oidc-provider verifies it next. Its single use is left to oidc-provider:
 * recording the jti here would make oidc-provider's own check refuse the real request as a
 * replay. So an assertion replayed within its lifetime (a few minutes; whoever replays it has
 * seen one) counts once more before oidc-provider refuses it — a bound, unlike a forged one,
 * which never counts. A public client's id is its only credential: whoever knows it
 * can spend its limit, as they can use the client.
 *
 * Clients without a limit pay a cache lookup (the one oidc-provider makes next anyway), no
 * store round trip; a client with a limit of 100 or more a window pays one per lease of 2 % of
 * it, not one per token (rate-limit.ts, leaseSize).
 */
export function clientRateLimit(options: ClientRateLimitOptions): Middleware {
  const { paths, directory, store, refused } = options;
  const limitFor = limitsByRate(store, LIMIT_NAMES.client, { lease: true });
  // The audiences oidc-provider accepts in an assertion at the token endpoint.
  const audiences = [options.issuer, new URL(options.issuer).origin + paths.token];

  /** The whole check: the client's credentials proved, then a point taken from its limit. */
  const limited = async (ctx: Context, next: Next): Promise<unknown> => {
    if (!ctx.is('application/x-www-form-urlencoded')) return next(); // oidc-provider refuses it
    // (Form fields that contradict the Basic header are oidc-provider's to refuse.)
    const authorization = ctx.get('authorization');
    const form = authorization ? NO_FORM : await peekForm(ctx);
    if (!form) return undefined; // too large: peekForm answered 400
    let presented;
    try {
      presented = presentedClientCredentials(authorization, form);
    } catch {
      return next(); // no client, or credentials oidc-provider refuses with its own words
    }
    // Each step answers at once when it can (the directory holds the client, it proves itself by
    // a secret, this instance's lease has a point): a limited client's token pays no await here.
    const held = directory.peek(presented.id);
    const client = held ? held.client : await directory.find(presented.id);
    if (!client?.rateLimit) return next();
    const proved =
      client.authMethod === 'private_key_jwt'
        ? await provesClient(client, presented, { audiences })
        : provesClientWithoutAssertion(client, presented, {
            certificate: options.certificates.certificates.certificateOf(ctx.req),
            trustedCas: options.certificates.trustedCas,
          });
    if (!proved) return next();
    const limit = limitFor(client.rateLimit);
    const verdict = limit.takeLeased(client.id) ?? (await limit.take(client.id));
    if (verdict.allowed) return next();
    refused(LIMIT_NAMES.client);
    tooManyRequestsJson(ctx, verdict.retryAfterSeconds);
    return undefined;
  };

  return gated(
    (ctx) => ctx.method === 'POST' && ctx.path === paths.token,
    (ctx, next) => {
      // The usual request names its client in the Basic header, and the usual client has no
      // limit: when the directory holds that client now, it goes on from this plain function,
      // without the body, its content type or the secret being looked at (issue 16: the token
      // path's cost). Anything else takes the whole check.
      const authorization = ctx.get('authorization');
      const id = authorization ? basicClientId(authorization) : undefined;
      const held = id === undefined ? undefined : directory.peek(id);
      if (held && !held.client?.rateLimit) return next();
      return limited(ctx, next);
    },
  );
}
