import type { ClientCertificate } from './certificate-binding.js';

/** A request's headers as Node (`IncomingMessage.headers`) or the fetch API (`Headers`) hands them over. */
export type RequestHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What `verifyRequest` reads of a request. */
export interface HttpRequest {
  /** The HTTP method, e.g. `GET`. */
  method: string;
  /** The URL the client called, as the client saw it (scheme and host before any proxy). */
  url: string | URL;
  headers: RequestHeaders;
  /** The body, when any: for signed requests (`Content-Digest`). */
  body?: string | Uint8Array;
  /**
   * The TLS client certificate (PEM, DER or X509Certificate), for certificate-bound tokens (RFC 8705):
   * read only when the token is bound to one. `undefined` or `null` when the client presented none.
   */
  clientCertificate?: ClientCertificate | null;
}

/**
 * A header's value(s) as received: `undefined` when absent, an array when Node kept several.
 * Header names are case-insensitive; Node lower-cases them, a hand-made record may not.
 */
export function readHeader(headers: RequestHeaders, name: string): string | readonly string[] | undefined {
  if (typeof (headers as Headers)?.get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  if (typeof headers !== 'object' || headers === null) throw new TypeError('request.headers must be an object');
  const record = headers as Record<string, string | readonly string[] | undefined>;
  if (Object.hasOwn(record, name)) return record[name];
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return record[key];
  return undefined;
}
