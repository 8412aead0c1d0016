import type { Context } from 'koa';
import { readLimitedBody } from '../http/read-body.js';
import { AppError, ValidationError } from '../lib/errors.js';

/** Admin request bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(ctx: Context): Promise<unknown> {
  const tooLarge = new AppError(413, 'invalid_request', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (Number(ctx.get('content-length') || 0) > MAX_BODY_BYTES) throw tooLarge;
  const body = await readLimitedBody(ctx.req, MAX_BODY_BYTES);
  if (!body) throw tooLarge;
  if (!body.length) return {};
  if (!ctx.is('application/json')) throw new AppError(415, 'invalid_request', 'send the request body as application/json');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}
