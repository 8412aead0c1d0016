import type { X509Certificate } from 'node:crypto';
import type { Context } from 'koa';
import type { KnownClient, ClientDirectory } from './client-directory.js';
import { verifyClientSecret } from './client-secret.js';
import { ASSERTION_CLOCK_TOLERANCE, verifyClientAssertion } from './client-assertion.js';
import { certificateProvesClient } from './certificate-authentication.js';
import type { ClientCertificates } from '../web/client-certificate.js';
import {
  ClientAuthenticationError,
  presentedClientCredentials,
  type PresentedCredentials,
} from '../oidc-provider/internals.js';

export { ClientAuthenticationError } from '../oidc-provider/internals.js';

/** What an assertion must be addressed to, and how its single use is recorded. */
export interface AssertionRules {
  /** The audiences oidc-provider accepts: the issuer, the token endpoint's URL, the endpoint's own. */
  audiences: readonly string[];
  /** Whether (iss, jti) is new, remembered until exp (the store oidc-provider's own check uses). */
  isNew(iss: string, jti: string, exp: number): Promise<boolean>;
}

/** The client certificate a request presented (if a usable one), and the CAs tls_client_auth trusts. */
export interface CertificateEvidence {
  certificate: X509Certificate | undefined;
  trustedCas: readonly X509Certificate[];
}

const NO_CERTIFICATE: CertificateEvidence = { certificate: undefined, trustedCas: [] };

/** Where a request's certificate comes from (TLS socket or trusted header), and TLS_CLIENT_CA. */
export interface CertificateRules {
  certificates: ClientCertificates;
  trustedCas: readonly X509Certificate[];
}

/**
 * The client authentication Tollgate offers (client_secret_basic, client_secret_post,
 * private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none), where Tollgate must know who the caller is before oidc-provider does:
 * introspection of JWT access tokens, which oidc-provider refuses. The credentials are read by a
 * copy of oidc-provider's rules (the seam's presentedClientCredentials); then, as it does, the
 * registered kind of client decides (public: id only; secret: compared in constant time;
 * private_key_jwt: an assertion verified with its keys, used once).
 */
export async function authenticateClient(
  ctx: Context,
  params: URLSearchParams,
  directory: ClientDirectory,
  assertions: AssertionRules,
  certificates: CertificateRules,
): Promise<KnownClient> {
  const presented = presentedClientCredentials(ctx.get('authorization'), params);
  const client = await directory.find(presented.id);
  const evidence = {
    certificate: certificates.certificates.certificateOf(ctx.req),
    trustedCas: certificates.trustedCas,
  };
  if (!client || !(await provesClient(client, presented, assertions, evidence)))
    throw new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed');
  return client;
}

/**
 * Whether what a request presents authenticates `client`, by its registered method. With
 * `assertions.isNew`, an assertion also counts as used; without it (`null`), only its signature
 * and claims are checked — for a decision taken before oidc-provider, which then makes the
 * single-use check itself. A certificate method needs the request's certificate (`evidence`),
 * and nothing else presented: as oidc-provider, a request with a secret or an assertion is not
 * a certificate client's.
 */
export async function provesClient(
  client: KnownClient,
  presented: PresentedCredentials,
  assertions: Pick<AssertionRules, 'audiences'> & Partial<Pick<AssertionRules, 'isNew'>>,
  evidence: CertificateEvidence = NO_CERTIFICATE,
): Promise<boolean> {
  switch (client.authMethod) {
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
    case 'none':
    case 'client_secret_basic':
      return provesClientWithoutAssertion(client, presented, evidence);
    case 'private_key_jwt': {
      if (presented.assertion === null) return false;
      const verified = await verifyClientAssertion(presented.assertion, client, assertions.audiences);
      if (!verified) return false;
      // Remembered as long as oidc-provider remembers it: past exp by the clock tolerance.
      return assertions.isNew
        ? assertions.isNew(client.id, verified.jti, verified.exp + ASSERTION_CLOCK_TOLERANCE)
        : true;
    }
  }
}

/**
 * provesClient for a client that does not authenticate by assertion (public, by secret, by
 * certificate), at once: a request checked on the token path needs no promise for it. False for a
 * private_key_jwt client, whose assertion only provesClient verifies.
 */
export function provesClientWithoutAssertion(
  client: KnownClient,
  presented: PresentedCredentials,
  evidence: CertificateEvidence = NO_CERTIFICATE,
): boolean {
  switch (client.authMethod) {
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      return (
        presented.secret === null &&
        presented.assertion === null &&
        certificateProvesClient(client, evidence.certificate, evidence.trustedCas)
      );
    case 'none':
      return presented.secret === null && presented.assertion === null;
    case 'client_secret_basic':
      return presented.secret !== null && verifyClientSecret(presented.secret, client.secretHash ?? undefined);
    case 'private_key_jwt':
      return false;
  }
}
