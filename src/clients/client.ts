import { formatRate, type Rate } from '../lib/rate.js';

/** A registered OAuth client, as Tollgate stores it. */
export interface Client {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
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
    token_endpoint_auth_method: client.isPublic ? 'none' : 'client_secret_basic',
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}
