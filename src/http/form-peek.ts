import querystring from 'node:querystring';
import type { Context } from 'koa';
import { readLimitedBody } from './read-body.js';

/** oidc-provider's own limit for form bodies. */
const MAX_FORM_BYTES = 56 * 1024;

/**
 * Reads a form body that oidc-provider will also need: it takes an already-read body from
 * req.body (duplicated parameters stay arrays, so its duplicate check still works).
 * When the body is over the limit it answers 400 itself and resolves undefined.
 */
export async function peekForm(ctx: Context): Promise<URLSearchParams | undefined> {
  const raw = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
  if (!raw) {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'the request body is too large' };
    return undefined;
  }
  const text = raw.toString('utf8');
  (ctx.req as { body?: unknown }).body = querystring.parse(text);
  return new URLSearchParams(text);
}
