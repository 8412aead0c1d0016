import type { Context } from 'koa';
import { AppError, ValidationError } from '../lib/errors.js';

/** Admin request bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(ctx: Context): Promise<unknown> {
  const length = Number(ctx.get('content-length') || 0);
  if (length > MAX_BODY_BYTES) throw new AppError(413, 'invalid_request', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AppError(413, 'invalid_request', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (!size) return {};
  if (!ctx.is('application/json')) throw new AppError(415, 'invalid_request', 'send the request body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}
