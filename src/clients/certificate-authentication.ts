import type { X509Certificate } from 'node:crypto';
import {
  issuedByTrustedCa,
  sanDnsMatches,
  subjectMatches,
  usableForClientAuth,
  withinValidity,
} from '../lib/client-certificates.js';
import { jwkThumbprint, parseClientPublicKey } from '../lib/client-public-key.js';
import type { KnownClient } from './client-directory.js';

/**
 * The JWK thumbprint of a certificate's public key; undefined for a key Tollgate does not accept,
 * or one OpenSSL cannot load at all (the `publicKey` getter throws for, say, an EC key with
 * explicit curve parameters): a certificate the caller chose, so a refusal, never a 500.
 */
function publicKeyThumbprint(certificate: X509Certificate): string | undefined {
  try {
    return parseClientPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString()).thumbprint;
  } catch {
    return undefined;
  }
}

/**
 * Whether a client certificate authenticates `client` (RFC 8705 §2), the one rule for every place
 * that asks — oidc-provider's mTLS hooks and Tollgate's own client authentication:
 *
 * - `tls_client_auth`: issued by one of `trustedCas` (TLS_CLIENT_CA, checked here whatever the
 *   TLS layer or proxy did), meant for client authentication (its extended key usage), and carrying the registered subject DN or SAN DNS name. A renewed
 *   certificate (new key, same subject) keeps authenticating.
 * - `self_signed_tls_client_auth`: its public key is one the client registered (client_keys, as
 *   for private_key_jwt); who issued it does not matter. Renewing it with the same key keeps
 *   authenticating; a new key is added with `clients add-key` first.
 *
 * Either way the certificate must be within its validity period. Every other method: false.
 */
export function certificateProvesClient(
  client: Pick<KnownClient, 'authMethod' | 'tlsSubjectDn' | 'tlsSanDns' | 'jwks'>,
  certificate: X509Certificate | undefined,
  trustedCas: readonly X509Certificate[],
  now = Date.now(),
): boolean {
  if (!certificate || !withinValidity(certificate, now)) return false;
  switch (client.authMethod) {
    case 'tls_client_auth':
      if (!issuedByTrustedCa(certificate, trustedCas, now) || !usableForClientAuth(certificate)) return false;
      if (client.tlsSubjectDn !== null) return subjectMatches(certificate, client.tlsSubjectDn);
      return client.tlsSanDns !== null && sanDnsMatches(certificate, client.tlsSanDns);
    case 'self_signed_tls_client_auth': {
      const thumbprint = publicKeyThumbprint(certificate);
      return (
        thumbprint !== undefined &&
        client.jwks.some(
          ({ kid: _kid, ...jwk }) => jwkThumbprint(jwk as Parameters<typeof jwkThumbprint>[0]) === thumbprint,
        )
      );
    }
    case 'client_secret_basic':
    case 'private_key_jwt':
    case 'none':
      return false;
  }
}
