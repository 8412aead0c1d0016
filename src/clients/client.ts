import { formatRate, type Rate } from '../lib/rate.js';

/**
 * How a client authenticates at the token endpoint: `none` (public), its secret
 * (`client_secret_basic`; `client_secret_post` is accepted for it too), an assertion signed
 * with one of its registered public keys (`private_key_jwt`, RFC 7523; no secret at all), or a
 * client certificate (RFC 8705): one from TLS_CLIENT_CA with its registered subject
 * (`tls_client_auth`), or one whose public key it registered (`self_signed_tls_client_auth`).
 */
export const CLIENT_AUTH_METHOD_NAMES = [
  'client_secret_basic',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHOD_NAMES)[number];

/** A registered OAuth client, as Tollgate stores it. */
export interface Client {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
  authMethod: ClientAuthMethod;
  /** tls_client_auth: the subject DN its certificate carries (RFC 4514 form), or else… */
  tlsSubjectDn: string | null;
  /** …a DNS name among its certificate's subjectAltName entries; null for every other method. */
  tlsSanDns: string | null;
  /** Whether its access tokens (and a public client's refresh tokens) are bound to its certificate (RFC 8705 §3). */
  certificateBound: boolean;
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
    // RFC 8705 §2.1.2's names; null but for a tls_client_auth client (one of the two).
    tls_client_auth_subject_dn: client.tlsSubjectDn,
    tls_client_auth_san_dns: client.tlsSanDns,
    tls_client_certificate_bound_access_tokens: client.certificateBound,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}
