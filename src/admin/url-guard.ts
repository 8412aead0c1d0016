import type { Middleware } from 'koa';
import { problemInForm, problemInPath } from '../http/input-guard.js';
import { ValidationError } from '../lib/errors.js';

/**
 * The admin API's share of the input guard: a path (a route's id) or query string holding a
 * control character, malformed percent-encoding or bytes that are not UTF-8 is a 400 before any
 * route looks the id up in the database.
 */
export const adminUrlGuard: Middleware = (ctx, next) => {
  const problem = problemInPath(ctx.path) ?? (ctx.querystring ? problemInForm(ctx.querystring, 'query') : undefined);
  if (problem) throw new ValidationError(problem);
  return next();
};
