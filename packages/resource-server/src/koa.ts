import { ResourceServerError } from './errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { RequestScheme } from './schemes.js';
import type { Verifier, VerifiedCaller } from './verifier.js';

/**
 * The parts of a Koa context the middleware uses. Structural on purpose: this package must not
 * load Koa (an API on Express installs no Koa), and any Koa 2/3 context fits.
 */
export interface KoaContextLike {
  method: string;
  /** The full request URL; honours X-Forwarded-Proto/-Host when `app.proxy` is set. */
  href: string;
  req: { headers: Record<string, string | string[] | undefined> };
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as in Koa's own types: handlers put their own things there too
  state: Record<string, any>;
}

export interface KoaProtectOptions {
  /** Scopes every request must carry (all of them). */
  scopes?: readonly string[];
  /** How callers may authenticate: `bearer`, `dpop`, `api-key`. Default `['bearer', 'dpop']`. */
  schemes?: readonly RequestScheme[];
  /** The URL clients call, for DPoP `htu`, when Koa cannot see it (a proxy rewriting paths). */
  requestUrl?: (ctx: KoaContextLike) => string;
}

/**
 * Koa middleware: authenticates the request by one of `schemes`, puts the caller on
 * `ctx.state.auth`, and answers 400/401/403/429/503 itself with `WWW-Authenticate` and a JSON body.
 * A rate-limited API key gets the RateLimit headers on every response.
 */
export function protectKoa(verifier: Verifier, options: KoaProtectOptions = {}) {
  const { scopes, schemes, requestUrl = (ctx: KoaContextLike) => ctx.href } = options;
  // Checked now, so that an unsupported scheme fails at start-up rather than on the first request.
  verifier.checkSchemes(schemes);
  return async function tollgateAuth(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
    let caller: VerifiedCaller;
    try {
      caller = await verifier.verifyRequest(
        {
          method: ctx.method,
          // A getter: the URL is only worth building when there is a DPoP proof to check it against.
          get url() {
            return requestUrl(ctx);
          },
          headers: ctx.req.headers,
        },
        { scopes, schemes },
      );
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      ctx.status = error.status;
      if (error.wwwAuthenticate !== undefined) ctx.set('WWW-Authenticate', error.wwwAuthenticate);
      for (const [name, value] of rateLimitHeaders(undefined, error)) ctx.set(name, value);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = error.toJSON();
      return;
    }
    if (caller.scheme === 'api-key')
      for (const [name, value] of rateLimitHeaders(caller.rateLimit)) ctx.set(name, value);
    ctx.state.auth = caller;
    // Outside the try: errors of the routes behind us are theirs, not authorization failures.
    await next();
  };
}
