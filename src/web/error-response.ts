import type { Context } from 'koa';
import type { TollgateError } from '../lib/errors.js';

/** RFC 6749 §5.2: error_description is printable ASCII except `"` and `\`. */
const OUTSIDE_DESCRIPTION = /[^\x20\x21\x23-\x5B\x5D-\x7E]/;
const OUTSIDE_DESCRIPTION_ALL = new RegExp(OUTSIDE_DESCRIPTION.source, 'g');

/**
 * Messages quote what the client sent (`scope "…" is not …`, from Tollgate or oidc-provider), and
 * a client can send anything: the quotes become `'`, an ellipsis `...`, anything else outside the
 * set `?` — one rule at the edge rather than in every message.
 */
export function conformDescription(description: string): string {
  if (!OUTSIDE_DESCRIPTION.test(description)) return description;
  return description.replace(/"/g, "'").replace(/…/g, '...').replace(OUTSIDE_DESCRIPTION_ALL, '?');
}

export interface ErrorResponseOptions {
  /**
   * `rfc6749` (the default): error_description kept within RFC 6749 §5.2's characters, as every
   * OAuth endpoint must. `as-written`: the admin API, which is no OAuth endpoint; its messages quote
   * names with `"` for the CLI to show, and stay as they are.
   */
  description?: 'rfc6749' | 'as-written';
}

/**
 * The one place that writes an error answer: the error's status and headers, `Cache-Control:
 * no-store` (RFC 6749 §5.1 for the token endpoint; an error is never worth caching anywhere) and
 * the JSON body `{ error, error_description, …extra }` of RFC 6749 §5.2.
 */
export function sendErrorResponse(ctx: Context, error: TollgateError, options: ErrorResponseOptions = {}): void {
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  ctx.set('Cache-Control', 'no-store');
  const description = options.description === 'as-written' ? error.description : conformDescription(error.description);
  ctx.body = { error: error.code, error_description: description, ...error.extraFields };
}

/**
 * For the error bodies oidc-provider writes itself (its messages quote the client's input too):
 * conforms their error_description after the fact, leaving every other member as it is.
 */
export function conformErrorBody(ctx: Context): void {
  const body = ctx.body as { error_description?: unknown } | null | undefined;
  if (ctx.status < 400 || !body || typeof body !== 'object' || typeof body.error_description !== 'string') return;
  const description = conformDescription(body.error_description);
  if (description !== body.error_description) ctx.body = { ...body, error_description: description };
}
