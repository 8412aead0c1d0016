import type { Context, Middleware, Next } from 'koa';

/**
 * A middleware for some requests only: the others go straight on to `next` from a plain function.
 * Written as `async (ctx, next) => { if (!mine) return next(); … }`, a middleware makes every
 * request pay for an async call (a promise and its resolution) just to be passed on; a dozen of
 * them in front of the token endpoint are a measurable part of a token's cost.
 */
export function gated(
  applies: (ctx: Context) => boolean,
  middleware: (ctx: Context, next: Next) => Promise<unknown>,
): Middleware {
  return (ctx, next) => (applies(ctx) ? middleware(ctx, next) : next());
}
