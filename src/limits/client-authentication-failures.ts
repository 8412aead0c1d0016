import type { Middleware } from 'koa';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { LIMIT_NAMES, type RefusalCounter } from './limit-names.js';
import type { RateLimit } from './rate-limit.js';
import { tooManyRequestsJson } from './too-many-requests.js';

export interface ClientAuthenticationFailureLimitOptions {
  paths: Pick<Paths, 'token' | 'introspection' | 'revocation'>;
  /** Made with `blockInMemory`: an address over it is refused from memory. */
  limit: RateLimit;
  refused: RefusalCounter;
}

/**
 * Guessing client secrets: the endpoints where a client authenticates (token, introspection,
 * revocation) count, per client address (ctx.ip, per TRUST_PROXY), the requests answered
 * invalid_client — by oidc-provider or by Tollgate's own JWT introspection — and refuse an
 * address that reached CLIENT_AUTH_FAILURE_LIMIT with 429 until its window ends. Only failures
 * are written to the store; every request checks this process's memory of blocked addresses,
 * so a request that authenticates costs no round trip. Each instance learns of a block from its
 * own failure past the limit: across N instances an address gets at most N - 1 failures more.
 *
 * Per address only, never per client: refusing a client after failures anyone can cause would
 * let anyone lock it out (the sign-in throttle's no-lockout design, for clients).
 */
export function clientAuthenticationFailureLimit(options: ClientAuthenticationFailureLimitOptions): Middleware {
  const { paths, limit, refused } = options;
  const endpoints = new Set([paths.token, paths.introspection, paths.revocation]);
  return gated(
    (ctx) => ctx.method === 'POST' && endpoints.has(ctx.path),
    async (ctx, next) => {
      const blocked = limit.blocked(ctx.ip);
      if (!blocked.allowed) {
        refused(LIMIT_NAMES.clientAuthFailures);
        tooManyRequestsJson(ctx, blocked.retryAfterSeconds);
        return;
      }
      await next();
      if (ctx.status === 401 && (ctx.body as { error?: unknown } | undefined)?.error === 'invalid_client')
        await limit.take(ctx.ip);
    },
  );
}
