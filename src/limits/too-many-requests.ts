import type { Context } from 'koa';
import { sendErrorResponse } from '../web/error-response.js';
import { html } from '../web/html.js';
import { sendPage } from '../web/page.js';
import { TollgateError } from '../lib/errors.js';

/**
 * The answer past a rate limit: 429 with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3). OAuth
 * endpoints get RFC 6749 §5.2-shaped JSON; `temporarily_unavailable` is the registered error
 * (§4.1.2.1, §11.4) for a server that will not serve the request now. People get a page.
 */
export function tooManyRequestsJson(ctx: Context, retryAfterSeconds: number): void {
  sendErrorResponse(
    ctx,
    new TollgateError(
      429,
      'temporarily_unavailable',
      `too many requests; retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`,
      {
        headers: { 'Retry-After': String(retryAfterSeconds) },
      },
    ),
  );
}

export function tooManyRequestsPage(ctx: Context, assets: string, retryAfterSeconds: number): void {
  ctx.set('Retry-After', String(retryAfterSeconds));
  sendPage(ctx, assets, {
    view: 'error',
    title: 'Too many requests',
    status: 429,
    values: {
      heading: 'Too many requests',
      message: `Too many requests came from your network. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
      detail: html``,
    },
  });
}
