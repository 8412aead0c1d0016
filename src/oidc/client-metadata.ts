import { isReservedScope } from '../lib/scope-names.js';
import type { Client } from '../clients/client.js';
import { isNativeRedirect } from '../clients/redirect-uris.js';

/**
 * A Tollgate client as oidc-provider client metadata. `client_secret` carries the secret's
 * *hash*: oidc-provider needs a value there for confidential clients, and the comparison is
 * replaced by client-secret-hook.ts. Nothing that would use it as key material
 * (client_secret_jwt, HS* algorithms) is enabled.
 */
export function clientMetadata(client: Client): Record<string, unknown> {
  return {
    client_id: client.id,
    client_name: client.name,
    ...(client.isPublic
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: client.secretHash, token_endpoint_auth_method: 'client_secret_basic' }),
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
