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
  }
}

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
  };
}
