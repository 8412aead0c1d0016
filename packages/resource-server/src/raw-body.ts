import { BodyTooLargeError } from './errors.js';
import { readHeader, type RequestHeaders } from './request.js';
import type { RequestScheme } from './schemes.js';

/**
 * The body of a signed request, for the middleware: its `Content-Digest` is checked against the
 * exact bytes received, so they must be read before anything parses them. Only signed requests
 * are read (the others' bodies are left to the app's body parser, untouched), and only up to
 * MAX_BODY_BYTES: a digest over a larger body would cost its whole upload before any refusal.
 */

/** Larger bodies are refused (413) rather than buffered: a signed API call is not an upload. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The parts of a Node request stream read here (IncomingMessage fits). */
interface BodyStream {
  readableEnded?: boolean;
  readableDidRead?: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  resume(): unknown;
}

function isStream(value: unknown): value is BodyStream {
  return typeof (value as BodyStream)?.on === 'function' && typeof (value as BodyStream).off === 'function';
}

/** Whether the middleware has a body to read: signatures accepted, a signed request, a body announced. */
export function needsBody(headers: RequestHeaders, schemes: readonly RequestScheme[] | undefined): boolean {
  if (schemes === undefined || !schemes.includes('signature')) return false;
  const signed = readHeader(headers, 'signature-input') !== undefined || readHeader(headers, 'signature') !== undefined;
  if (!signed) return false;
  const length = readHeader(headers, 'content-length');
  return (typeof length === 'string' && Number(length) > 0) || readHeader(headers, 'transfer-encoding') !== undefined;
}

/**
 * The raw body: the one the app kept (`rawBody`, a Buffer or string, the documented convention),
 * else read from the stream. A stream a body parser has consumed without keeping the bytes is the
 * API's configuration error, a TypeError saying how to fix it (its operator sees it in the logs).
 */
export async function rawBody(kept: unknown, stream: unknown, where: string): Promise<Buffer | string> {
  if (typeof kept === 'string' || Buffer.isBuffer(kept)) return kept;
  if (kept instanceof Uint8Array) return Buffer.from(kept);
  if (!isStream(stream) || stream.readableEnded === true || stream.readableDidRead === true)
    throw new TypeError(
      `a signed request's body was read before the Tollgate middleware: mount it before the body parser, ` +
        `or have the body parser keep the raw bytes on ${where}`,
    );
  return readStream(stream);
}

function readStream(stream: BodyStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        cleanup();
        // Drained and dropped, so the 413 can be answered on this connection.
        stream.resume();
        reject(new BodyTooLargeError(MAX_BODY_BYTES));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
