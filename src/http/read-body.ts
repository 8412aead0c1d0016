import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body, keeping at most `limit` bytes; resolves undefined when it is larger.
 * Past the limit the rest is drained rather than the stream destroyed, so the client still
 * receives the error answer.
 */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
