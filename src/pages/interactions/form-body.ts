import type { Context } from 'koa';
import { readLimitedBody } from '../../web/read-body.js';

const MAX_FORM_BYTES = 16 * 1024;

/** A page's form post (application/x-www-form-urlencoded); undefined when it is not one. */
export async function readForm(ctx: Context): Promise<URLSearchParams | undefined> {
  if (!ctx.is('application/x-www-form-urlencoded')) return undefined;
  const body = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
  return body ? new URLSearchParams(body.toString('utf8')) : undefined;
}
