import type { Middleware } from 'koa';
import type { Paths } from './paths.js';

/**
 * Serves the RFC 8414 document at its own place — /.well-known/oauth-authorization-server
 * followed by the issuer's path — with the same metadata as OpenID discovery. (That every URL
 * oidc-provider builds starts with ISSUER, whatever Host a request came in on, is
 * answerAsIssuer in src/oidc-provider/internals.ts.)
 */
export function issuerRouting(paths: Pick<Paths, 'oauthDiscovery' | 'openidDiscovery'>): Middleware {
  return (ctx, next) => {
    if (ctx.path === paths.oauthDiscovery) ctx.path = paths.openidDiscovery;
    return next();
  };
}
