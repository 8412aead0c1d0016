import querystring from 'node:querystring';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { TollgateError } from '../lib/errors.js';
import { sendErrorResponse } from './error-response.js';
import { readLimitedBody } from './read-body.js';

/** oidc-provider's own limit for form bodies (lib/shared/selective_body.js). */
export const MAX_FORM_BYTES = 56 * 1024;

/**
 * Hands a form body read by Tollgate to oidc-provider. Once the stream is consumed, oidc-provider
 * takes req.body instead (selective_body.js, "already parsed request body"); parsed with
 * querystring, duplicated parameters stay arrays, so its duplicate check still works.
 */
export function handFormToProvider(req: IncomingMessage, text: string): void {
  (req as { body?: unknown }).body = querystring.parse(text);
}

/**
 * Reads a form body that oidc-provider will also need (already read by the input guard, so this
 * is the same bytes). When the body is over the limit it answers 400 itself and resolves undefined.
 */
export async function peekForm(ctx: Context): Promise<URLSearchParams | undefined> {
  const raw = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
  if (!raw) {
    sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', 'the request body is too large'));
    return undefined;
  }
  const text = raw.toString('utf8');
  handFormToProvider(ctx.req, text);
  return new URLSearchParams(text);
}
