import type { IncomingMessage } from 'node:http';

interface ReadBody {
  /** The bytes, when the body fitted the limit it was read with. */
  bytes: Buffer | undefined;
}

/**
 * A request's body can be read from its stream once. The input guard reads it before anything
 * else (to refuse what must not go further); later readers — a page's form, the admin JSON body,
 * introspection — get the same bytes from here instead of waiting on a stream that has ended.
 */
const bodies = new WeakMap<IncomingMessage, Promise<ReadBody>>();

/**
 * Reads a request body, keeping at most `limit` bytes; resolves undefined when it is larger.
 * Past the limit the rest is drained rather than the stream destroyed, so the client still
 * receives the error answer. A second call for the same request answers from the first read
 * (undefined too when the first read had to drop bytes this call would have kept).
 */
export async function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  let read = bodies.get(req);
  if (!read) {
    read = drain(req, limit);
    bodies.set(req, read);
  }
  const { bytes } = await read;
  return bytes && bytes.length <= limit ? bytes : undefined;
}

function drain(req: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: size > limit ? undefined : Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}
