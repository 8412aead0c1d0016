import type { Middleware } from 'koa';

/** The path part of the issuer ('' when the issuer is an origin), where the provider is mounted. */
export function issuerPath(issuer: string): string {
  const { pathname } = new URL(issuer);
  return pathname === '/' ? '' : pathname.replace(/\/$/, '');
}

/**
 * oidc-provider builds every URL from the request's origin; Tollgate answers as ISSUER, whatever
 * Host a request came in on (a load balancer's name, an IP, a spoofed header). Also serves the
 * RFC 8414 document at its own place — /.well-known/oauth-authorization-server followed by the
 * issuer's path — with the same metadata as OpenID discovery.
 */
export function issuerRouting(issuer: string): Middleware {
  const { origin } = new URL(issuer);
  const path = issuerPath(issuer);
  const rfc8414Path = `/.well-known/oauth-authorization-server${path}`;
  return async (ctx, next) => {
    // oidc-provider resolves its URLs against ctx.href (Koa: protocol + Host header + URL).
    Object.defineProperty(ctx.request, 'href', { get: () => origin + ctx.originalUrl, configurable: true });
    if (ctx.path === rfc8414Path) ctx.path = `${path}/.well-known/openid-configuration`;
    await next();
  };
}
