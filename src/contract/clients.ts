import { z } from 'zod';
import { GRANT_TYPES, GRANT_TYPE_ALIASES } from '../lib/grant-types.js';
import { list, optional, optionalBoolean, optionalText, requiredText } from './wire-fields.js';
import { refuse } from './wording.js';
import { parseRate, type Rate } from '../lib/rate.js';
import { publicKeyText } from './client-keys.js';

export type GrantType = (typeof GRANT_TYPES)[number];

function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

/** Grant types by their full names, the CLI's `device_code` accepted for RFC 8628's. */
function grantTypes(missing?: (field: string) => string) {
  return list({ maxItems: 10, wording: missing ? { missing } : {} }).transform((names, ctx) => {
    const grants = names.map((name) => GRANT_TYPE_ALIASES[name] ?? name);
    if (!grants.length) return refuse(ctx, (field) => `${field} must name at least one grant type`);
    const unsupported = grants.find((grant) => !isGrantType(grant));
    if (unsupported !== undefined) {
      return refuse(
        ctx,
        () =>
          `grant type "${unsupported}" is not supported; choose from client_credentials, authorization_code, refresh_token, device_code`,
      );
    }
    return grants as GrantType[];
  });
}
const GRANTS = 'client_credentials, authorization_code, refresh_token, device_code (or its URN)';
const name = requiredText().meta({ description: 'a name people recognise on the consent page' });

const redirectUris = optional(list()).meta({ description: 'exact redirect URIs (authorization_code only)' });
const postLogoutRedirectUris = optional(list()).meta({
  description: 'where the client may send a user after signing out',
});
const firstParty = optionalBoolean().meta({ description: 'skips the consent page (never the device confirmation)' });
const scopes = optional(list({ maxItems: 200 })).meta({ description: 'API scopes the client may ask for' });

/** The word that removes a client's rate limit where JSON null cannot be written (the CLI). */
export const NO_RATE_LIMIT = 'none';

const RATE_LIMIT = `token requests the client may make across all instances, N/s, N/min or N/h (e.g. 10/s); beyond it 429`;

/** A rate (`10/s`, `600/min`, `5000/h`), or `none`: null, the client unlimited. */
const rateLimit = z
  .string()
  .meta({ maxLength: 32 })
  .transform((value, ctx): Rate | null => {
    if (value.trim() === NO_RATE_LIMIT) return null;
    try {
      return parseRate(value);
    } catch (error) {
      return refuse(ctx, (field) => `${field}: ${(error as Error).message}, or ${NO_RATE_LIMIT}`);
    }
  });

/** The token-endpoint authentication a confidential client may be created with. */
export const CLIENT_AUTH_METHODS_OFFERED = ['client_secret_basic', 'private_key_jwt'] as const;
export type OfferedAuthMethod = (typeof CLIENT_AUTH_METHODS_OFFERED)[number];

const authMethod = z
  .string()
  .meta({ enum: [...CLIENT_AUTH_METHODS_OFFERED] })
  .transform((value, ctx): OfferedAuthMethod => {
    if ((CLIENT_AUTH_METHODS_OFFERED as readonly string[]).includes(value)) return value as OfferedAuthMethod;
    const choose = `choose ${CLIENT_AUTH_METHODS_OFFERED.join(' or ')}`;
    if (value === 'tls_client_auth' || value === 'self_signed_tls_client_auth')
      return refuse(ctx, (field) => `${field}: ${value} (RFC 8705 client certificates) is not offered yet; ${choose}`);
    if (value === 'none')
      return refuse(ctx, (field, name) => `${field}: for a client with no credentials use ${name('public')} instead`);
    if (value === 'client_secret_post')
      return refuse(
        ctx,
        (field) => `${field}: client_secret_basic clients may also send their secret in the body; ${choose}`,
      );
    return refuse(ctx, (field) => `${field}: "${value}" is not offered; ${choose}`);
  });

/** POST /clients */
export const createClientBody = z
  .strictObject({
    name,
    grant_types: grantTypes((field) => `${field} is required, e.g. client_credentials`).meta({ description: GRANTS }),
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    scopes,
    public: optionalBoolean().meta({ description: 'a client with no secret (token_endpoint_auth_method none)' }),
    auth_method: optional(authMethod).meta({
      description:
        'how a confidential client authenticates at the token endpoint: client_secret_basic (default; a secret) or private_key_jwt (RFC 7523; assertions signed with its public keys, no secret)',
    }),
    public_key: optional(publicKeyText).meta({
      description: 'the first public key of a private_key_jwt client (PEM or one JWK: Ed25519, P-256, RSA ≥ 2048)',
    }),
    first_party: firstParty,
    rate_limit: optional(rateLimit).meta({ description: RATE_LIMIT }),
  })
  .transform((body, ctx) => {
    if (body.public && body.auth_method)
      return refuse(
        ctx,
        (_, name) => `a public client has no credentials: give ${name('public')} or ${name('auth_method')}, not both`,
      );
    // Also the service's rules; here too, so the CLI refuses them before calling.
    if (body.auth_method === 'private_key_jwt' && !body.public_key)
      return refuse(
        ctx,
        (_, name) =>
          `a private_key_jwt client needs its first public key (${name('public_key')}): it has no secret to authenticate with`,
      );
    if (body.public_key && body.auth_method !== 'private_key_jwt')
      return refuse(
        ctx,
        (_, name) =>
          `${name('public_key')} at creation is for ${name('auth_method')} private_key_jwt; add keys to other clients with clients add-key`,
      );
    return {
      name: body.name,
      isPublic: body.public ?? false,
      authMethod: body.public ? ('none' as const) : (body.auth_method ?? 'client_secret_basic'),
      publicKey: body.public_key,
      firstParty: body.first_party ?? false,
      grantTypes: body.grant_types,
      redirectUris: body.redirect_uris ?? [],
      postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
      scopes: body.scopes ?? [],
      rateLimit: body.rate_limit ?? null,
    };
  });
export type CreateClientInput = z.output<typeof createClientBody>;

const UPDATE_FIELDS = [
  'name',
  'grant_types',
  'redirect_uris',
  'post_logout_redirect_uris',
  'scopes',
  'first_party',
  'disabled',
  'rate_limit',
];

/** PATCH /clients/:id: only what is given changes (null only removes the rate limit), and something must be. */
export const updateClientBody = z
  .strictObject({
    name: optionalText().meta({ description: 'a name people recognise on the consent page' }),
    grant_types: optional(grantTypes()).meta({ description: GRANTS }),
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    scopes,
    first_party: firstParty,
    disabled: optionalBoolean().meta({ description: 'a disabled client gets no tokens' }),
    // As a user's email: JSON null (or "none") removes the limit.
    rate_limit: rateLimit
      .nullable()
      .optional()
      .meta({ description: `${RATE_LIMIT}; "${NO_RATE_LIMIT}" or JSON null removes it` }),
  })
  .transform((body, ctx) => {
    const changes = {
      name: body.name,
      grantTypes: body.grant_types,
      redirectUris: body.redirect_uris,
      postLogoutRedirectUris: body.post_logout_redirect_uris,
      scopes: body.scopes,
      firstParty: body.first_party,
      disabled: body.disabled,
      rateLimit: body.rate_limit,
    };
    if (Object.values(changes).every((value) => value === undefined)) {
      return refuse(ctx, () => `nothing to update: give one of ${UPDATE_FIELDS.join(', ')}`);
    }
    return changes;
  });
export type UpdateClientInput = z.output<typeof updateClientBody>;
