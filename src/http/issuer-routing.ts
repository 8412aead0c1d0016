import type Koa from 'koa';
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
export function issuerRouting(app: Koa, issuer: string): Middleware {
  const { origin } = new URL(issuer);
  const path = issuerPath(issuer);
  const rfc8414Path = `/.well-known/oauth-authorization-server${path}`;
  // oidc-provider resolves its URLs against ctx.href (Koa: protocol + Host header + URL). Set on
  // the app's request prototype once, not on every request object (which would slow them all).
  Object.defineProperty(app.request, 'href', {
    get(this: { originalUrl: string }) { return origin + this.originalUrl; },
    configurable: true,
  });
  return (ctx, next) => {
    if (ctx.path === rfc8414Path) ctx.path = `${path}/.well-known/openid-configuration`;
    return next();
  };
}
