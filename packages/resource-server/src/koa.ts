import type { AccessTokenClaims } from './claims.js';
import { ResourceServerError } from './errors.js';
import type { Verifier } from './verifier.js';

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
  /** The URL clients call, for DPoP `htu`, when Koa cannot see it (a proxy rewriting paths). */
  requestUrl?: (ctx: KoaContextLike) => string;
}

/**
 * Koa middleware: verifies the `Authorization` (and `DPoP`) headers, puts the claims on
 * `ctx.state.auth`, and answers 400/401/403/503 itself with `WWW-Authenticate` and a JSON body.
 */
export function protectKoa(verifier: Verifier, options: KoaProtectOptions = {}) {
  const { scopes, requestUrl = (ctx: KoaContextLike) => ctx.href } = options;
  return async function tollgateAuth(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
    const proof = ctx.req.headers.dpop;
    let claims: AccessTokenClaims;
    try {
      claims = await verifier.verify(ctx.get('authorization'), {
        scopes,
        // The URL is only worth building when there is a proof to check it against.
        dpop: proof === undefined ? undefined : { proof, method: ctx.method, url: requestUrl(ctx) },
      });
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      ctx.status = error.status;
      if (error.wwwAuthenticate !== undefined) ctx.set('WWW-Authenticate', error.wwwAuthenticate);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = error.toJSON();
      return;
    }
    ctx.state.auth = claims;
    // Outside the try: errors of the routes behind us are theirs, not authorization failures.
    await next();
  };
}
