import { isReservedScope } from '../lib/scope-names.js';
import type { KnownClient } from '../clients/client-directory.js';
import { isNativeRedirect } from '../clients/redirect-uris.js';

/** How the client authenticates, as oidc-provider metadata. */
function authentication(client: KnownClient): Record<string, unknown> {
  switch (client.authMethod) {
    case 'none':
      return { token_endpoint_auth_method: 'none' };
    case 'private_key_jwt':
      // Its assertions are verified against the public keys it registered (client_keys), each
      // with its keyid as `kid`; the directory reloads them, so a removed key stops within 5 s.
      return { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: client.jwks.map((jwk) => ({ ...jwk })) } };
    case 'client_secret_basic':
      return { client_secret: client.secretHash, token_endpoint_auth_method: 'client_secret_basic' };
    case 'tls_client_auth':
      return {
        token_endpoint_auth_method: 'tls_client_auth',
        ...(client.tlsSubjectDn === null
          ? { tls_client_auth_san_dns: client.tlsSanDns }
          : { tls_client_auth_subject_dn: client.tlsSubjectDn }),
      };
    case 'self_signed_tls_client_auth':
      // oidc-provider's own self_signed_tls_client_auth matches a certificate registered whole
      // (the x5c of a JWK); Tollgate's matches the certificate's *public key* against the keys
      // the client registered, so a renewed certificate with the same key keeps working. So
      // oidc-provider is told tls_client_auth, whose decision it leaves to the mTLS hooks
      // (provider.ts), which decide by Tollgate's record; the subject it demands is a name that
      // stands for "by its registered keys" and is compared by nobody.
      return {
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: SELF_SIGNED_BY_REGISTERED_KEYS,
        jwks: { keys: client.jwks.map((jwk) => ({ ...jwk })) },
      };
  }
}

/** The subject a self_signed_tls_client_auth client is registered at oidc-provider with (see above). */
export const SELF_SIGNED_BY_REGISTERED_KEYS = 'urn:tollgate:self-signed-tls-client-auth';

/**
 * A Tollgate client as oidc-provider client metadata. `client_secret` carries the secret's
 * *hash*: oidc-provider needs a value there for confidential clients, and the comparison is
 * replaced by client-secret-hook.ts. Nothing that would use it as key material
 * (client_secret_jwt, HS* algorithms) is enabled.
 */
export function clientMetadata(client: KnownClient): Record<string, unknown> {
  return {
    client_id: client.id,
    client_name: client.name,
    ...authentication(client),
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    // oidc-provider accepts only its own (OpenID) scopes here; API scopes are enforced by
    // resource-policy.ts against the client's full list.
    scope: client.scopes.filter(isReservedScope).join(' ') || undefined,
    application_type: client.isPublic && client.redirectUris.some(isNativeRedirect) ? 'native' : 'web',
    tls_client_certificate_bound_access_tokens: client.certificateBound,
  };
}
