import type { Context } from 'koa';
import { AppError, ValidationError } from '../lib/errors.js';

/** Admin request bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads the raw body, keeping at most MAX_BODY_BYTES. Past the limit the rest is drained rather
 * than the stream destroyed, so the client still receives the 413 answer.
 */
function readLimited(ctx: Context): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    ctx.req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    ctx.req.on('error', reject);
  });
}

export async function readJsonBody(ctx: Context): Promise<unknown> {
  const tooLarge = new AppError(413, 'invalid_request', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (Number(ctx.get('content-length') || 0) > MAX_BODY_BYTES) throw tooLarge;
  const body = await readLimited(ctx);
  if (!body) throw tooLarge;
  if (!body.length) return {};
  if (!ctx.is('application/json')) throw new AppError(415, 'invalid_request', 'send the request body as application/json');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}
