import { InvalidTokenError } from './errors.js';
import { readHeader, type RequestHeaders } from './request.js';

/**
 * Where the middleware finds the client certificate of a request: the TLS socket's peer
 * certificate when the API terminates TLS itself, or — only when the API says its TLS-terminating
 * proxy sets one — an RFC 9440 `Client-Cert` header. Never both: behind a proxy the socket's peer
 * is the proxy, and without one a `Client-Cert` header is whatever the client chose to write.
 */

/** What of a Node request is read: its headers, and its socket (a TLSSocket over HTTPS). */
export interface CertificateCarrier {
  headers: RequestHeaders;
  socket?: unknown;
}

/** Returns the DER bytes of the request's client certificate, `undefined` when there is none. */
export type ClientCertificateReader = (request: CertificateCarrier) => Uint8Array | undefined;

/** A certificate is a few KiB; a header larger than this is not one, and is not decoded. */
export const MAX_CLIENT_CERT_HEADER_CHARS = 16 * 1024;

/** RFC 9110 §5.1 field names. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 8941 §3.3.5 Byte Sequence, without parameters: `:` standard base64 `:`, padding optional. */
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]*)(={0,2}):$/;

interface TlsSocketLike {
  encrypted?: unknown;
  getPeerCertificate?: (detailed: false) => { raw?: unknown } | null;
}

/** The peer certificate of a TLS socket (`{}` from Node when the client presented none). */
function peerCertificate(socket: unknown): Uint8Array | undefined {
  const tls = socket as TlsSocketLike | undefined;
  if (tls?.encrypted !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const raw = tls.getPeerCertificate(false)?.raw;
  return raw instanceof Uint8Array && raw.length > 0 ? raw : undefined;
}

/**
 * The DER bytes of an RFC 9440 `Client-Cert` value. Anything else — several values, no colons,
 * bad base64, parameters, over 16 KiB — is a client that presented a bad certificate: 401, never
 * "no certificate", which could let a certificate-bound token through a misconfigured proxy.
 */
export function decodeClientCertHeader(field: string | readonly string[], name: string): Uint8Array {
  const value = typeof field === 'string' ? field : field.length === 1 ? field[0]! : undefined;
  // Node joins repeated unknown headers with ", "; base64 has no comma.
  if (value === undefined || value.includes(','))
    throw new InvalidTokenError(`the request has more than one ${name} header`);
  if (value.length > MAX_CLIENT_CERT_HEADER_CHARS)
    throw new InvalidTokenError(`the ${name} header is larger than a certificate`);
  const match = BYTE_SEQUENCE.exec(value.trim());
  if (match === null) throw new InvalidTokenError(`the ${name} header is not an RFC 9440 byte sequence`);
  const [, base64, padding] = match as unknown as [string, string, string];
  const der = Buffer.from(base64, 'base64');
  // Buffer.from skips what it cannot decode: re-encoding tells a canonical value from a mangled one.
  if (der.length === 0 || der.toString('base64') !== base64 + padding.padEnd((4 - (base64.length % 4)) % 4, '='))
    throw new InvalidTokenError(`the ${name} header is not an RFC 9440 byte sequence`);
  return der;
}

/**
 * The reader for a middleware's options: the socket's peer certificate, or with `headerName`
 * only that header. The name is checked now, so a typo fails at start-up.
 */
export function clientCertificateReader(headerName: string | undefined): ClientCertificateReader {
  if (headerName === undefined) return (request) => peerCertificate(request.socket);
  if (typeof headerName !== 'string' || !FIELD_NAME.test(headerName))
    throw new TypeError('clientCertificateHeader must be a header name, e.g. client-cert');
  const name = headerName.toLowerCase();
  return (request) => {
    const value = readHeader(request.headers, name);
    return value === undefined ? undefined : decodeClientCertHeader(value, headerName);
  };
}
