import { hash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { InvalidTokenError } from './errors.js';

/** A TLS client certificate as an API hands it over: PEM, DER bytes, or already parsed. */
export type ClientCertificate = string | Uint8Array | X509Certificate;

const UNREADABLE = 'the client certificate could not be read';

/**
 * Parses what the API passed as `clientCertificate`. Bytes or text that are not one certificate
 * are the caller's doing (a proxy's header, a client's TLS handshake): 401. A value of another
 * type is the API's programming error — typically Node's `getPeerCertificate()` object instead of
 * its `.raw` bytes — so a TypeError saying so, not a 401 nobody could fix by retrying.
 */
export function readClientCertificate(certificate: ClientCertificate): X509Certificate {
  if (certificate instanceof X509Certificate) return certificate;
  if (typeof certificate !== 'string' && !(certificate instanceof Uint8Array))
    throw new TypeError(
      'clientCertificate must be PEM, DER bytes or an X509Certificate (of a TLS socket: getPeerCertificate().raw)',
    );
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificate);
  } catch (cause) {
    throw new InvalidTokenError(UNREADABLE, { cause });
  }
  // OpenSSL reads the first certificate and ignores what follows: DER bytes must be exactly one.
  if (typeof certificate !== 'string' && !parsed.raw.equals(certificate)) throw new InvalidTokenError(UNREADABLE);
  return parsed;
}

/**
 * RFC 8705 §3: a certificate-bound token is accepted only from the holder of the certificate it
 * names — `x5t#S256`, the base64url SHA-256 of the certificate's DER, equal to the thumbprint of the
 * one this request came with. The chain is not checked here: the TLS layer (or the proxy) did, or
 * deliberately did not for self-signed certificates; what binds the token is the TLS handshake's
 * proof of the certificate's private key. A certificate outside its validity period is refused
 * all the same, with `clockTolerance` seconds either way as for the token's own times.
 */
export function verifyCertificateBinding(
  presented: ClientCertificate,
  thumbprint: string,
  nowSeconds: number,
  clockTolerance: number,
): void {
  const certificate = readClientCertificate(presented);
  const expected = Buffer.from(thumbprint);
  const actual = Buffer.from(hash('sha256', certificate.raw, 'base64url'));
  // Constant time: how much of a thumbprint matched says nothing to whoever is trying certificates.
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    throw new InvalidTokenError('the token is bound to another client certificate');
  const validFrom = Date.parse(certificate.validFrom) / 1000;
  const validTo = Date.parse(certificate.validTo) / 1000;
  if (!Number.isFinite(validFrom) || !Number.isFinite(validTo)) throw new InvalidTokenError(UNREADABLE);
  if (nowSeconds + clockTolerance < validFrom) throw new InvalidTokenError('the client certificate is not valid yet');
  if (nowSeconds - clockTolerance > validTo) throw new InvalidTokenError('the client certificate has expired');
}
