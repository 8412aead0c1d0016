import type Koa from 'koa';

/**
 * The one place that decides which address a request comes from, applied to every Koa
 * application that serves requests: the public app, and oidc-provider's Provider (itself a Koa
 * application, whose own contexts — interactionDetails, interactionResult — read its settings).
 *
 * With `hops` trusted reverse proxies in front, each appends the address it received the
 * request from to X-Forwarded-For, so only the right-most `hops` entries were written by them;
 * anything left of those was written by the client and is never used. Koa 3 implements exactly
 * this: with `proxy` on, `ctx.ips` is the last `maxIpsCount` entries and `ctx.ip` the first of
 * them, i.e. the hops-th address from the right (or the left-most, when a request came through
 * fewer proxies than configured); without the header, the socket's address. 0 hops: the header is
 * ignored, and so are X-Forwarded-Proto and X-Forwarded-Host.
 */
export function trustProxyHops(app: Koa, hops: number): void {
  app.proxy = hops > 0;
  // Koa treats 0 as "no limit" (the left-most address): only ever set with proxy on.
  app.maxIpsCount = hops;
}
