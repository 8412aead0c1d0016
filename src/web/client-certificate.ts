import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { parseClientCertHeader, withinValidity } from '../lib/client-certificates.js';

/**
 * The client certificate a request presented: none; one that cannot be used (a `Client-Cert`
 * header that is not a certificate, or a certificate outside its validity period); or one.
 */
export type PresentedCertificate =
  { kind: 'none' } | { kind: 'unusable'; reason: string } | { kind: 'present'; certificate: X509Certificate };

const NONE: PresentedCertificate = { kind: 'none' };

/**
 * The one answer to "which certificate did this request present", for every part of Tollgate
 * that asks (oidc-provider's mTLS hooks, Tollgate's own client authentication, the guard that
 * refuses unusable ones). From the proxy's header when CLIENT_CERT_HEADER is set (config.ts
 * allows that only with TRUST_PROXY, and never with TLS_CERT); otherwise from the TLS
 * connection, and a `Client-Cert` header a client sends is ignored. Read once per request.
 */
export class ClientCertificates {
  readonly #seen = new WeakMap<IncomingMessage, PresentedCertificate>();

  constructor(
    /** The proxy's header (lower case), or undefined to read the TLS socket. */
    private readonly header: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  of(req: IncomingMessage): PresentedCertificate {
    let presented = this.#seen.get(req);
    if (!presented) {
      presented = this.#read(req);
      this.#seen.set(req, presented);
    }
    return presented;
  }

  /** The certificate, if the request presented a usable one. */
  certificateOf(req: IncomingMessage): X509Certificate | undefined {
    const presented = this.of(req);
    return presented.kind === 'present' ? presented.certificate : undefined;
  }

  #read(req: IncomingMessage): PresentedCertificate {
    let certificate: X509Certificate | undefined;
    if (this.header) {
      const value = req.headers[this.header];
      if (value === undefined) return NONE;
      certificate = typeof value === 'string' ? parseClientCertHeader(value) : undefined;
      if (!certificate) return { kind: 'unusable', reason: 'the client certificate could not be read' };
    } else {
      const socket = req.socket as Partial<TLSSocket>;
      // A plain connection, or TLS without a certificate from the client.
      if (!socket.encrypted || typeof socket.getPeerX509Certificate !== 'function') return NONE;
      certificate = socket.getPeerX509Certificate();
      if (!certificate) return NONE;
    }
    if (!withinValidity(certificate, this.now()))
      return { kind: 'unusable', reason: 'the client certificate is expired or not yet valid' };
    return { kind: 'present', certificate };
  }
}
