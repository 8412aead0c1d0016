import { formatRate, type Rate } from '../lib/rate.js';

/**
 * How a client authenticates at the token endpoint: `none` (public), its secret
 * (`client_secret_basic`; `client_secret_post` is accepted for it too), or an assertion signed
 * with one of its registered public keys (`private_key_jwt`, RFC 7523; no secret at all).
 */
export const CLIENT_AUTH_METHOD_NAMES = ['client_secret_basic', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHOD_NAMES)[number];

/** A registered OAuth client, as Tollgate stores it. */
export interface Client {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
  authMethod: ClientAuthMethod;
  firstParty: boolean;
  grantTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  disabled: boolean;
  /** Its bound on token requests, across instances; null: not limited. */
  rateLimit: Rate | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The admin API's and CLI's JSON shape; never includes the secret hash. */
export function clientToJson(client: Client) {
  return {
    client_id: client.id,
    name: client.name,
    public: client.isPublic,
    first_party: client.firstParty,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    scopes: client.scopes,
    disabled: client.disabled,
    rate_limit: client.rateLimit ? formatRate(client.rateLimit) : null,
    token_endpoint_auth_method: client.authMethod,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}
