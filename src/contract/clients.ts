import { z } from 'zod';
import { GRANT_TYPES, GRANT_TYPE_ALIASES } from '../lib/grant-types.js';
import { list, optional, optionalBoolean, optionalText, requiredText } from './wire-fields.js';
import { refuse } from './wording.js';
import { parseRate, type Rate } from '../lib/rate.js';
import { publicKeyText } from './client-keys.js';
import { isDnsName, parseDistinguishedName } from '../lib/client-certificates.js';

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

/** The token-endpoint authentication a confidential client may be created with, or switched to. */
export const CLIENT_AUTH_METHODS_OFFERED = [
  'client_secret_basic',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
] as const;
export type OfferedAuthMethod = (typeof CLIENT_AUTH_METHODS_OFFERED)[number];
/** The methods a client authenticates with by the public keys it registered. */
const BY_PUBLIC_KEY: readonly OfferedAuthMethod[] = ['private_key_jwt', 'self_signed_tls_client_auth'];

const authMethod = z
  .string()
  .meta({ enum: [...CLIENT_AUTH_METHODS_OFFERED] })
  .transform((value, ctx): OfferedAuthMethod => {
    if ((CLIENT_AUTH_METHODS_OFFERED as readonly string[]).includes(value)) return value as OfferedAuthMethod;
    const choose = `choose ${CLIENT_AUTH_METHODS_OFFERED.join(', ')}`;
    if (value === 'none')
      return refuse(ctx, (field, name) => `${field}: for a client with no credentials use ${name('public')} instead`);
    if (value === 'client_secret_post')
      return refuse(
        ctx,
        (field) => `${field}: client_secret_basic clients may also send their secret in the body; ${choose}`,
      );
    return refuse(ctx, (field) => `${field}: "${value}" is not offered; ${choose}`);
  });

const AUTH_METHOD_DESCRIPTION =
  'how a confidential client authenticates at the token endpoint: client_secret_basic (a secret), private_key_jwt (RFC 7523; assertions signed with its public keys), tls_client_auth (RFC 8705; a certificate from TLS_CLIENT_CA with the subject given), self_signed_tls_client_auth (RFC 8705; a certificate whose public key it registered)';

/** An RFC 4514-style subject DN, `CN=orders,O=Acme`. */
const tlsSubject = requiredText(1000).transform((value, ctx) =>
  parseDistinguishedName(value)
    ? value
    : refuse(
        ctx,
        (field) => `${field} must be a distinguished name such as "CN=orders,O=Acme" (TYPE=value, separated by commas)`,
      ),
);
const tlsSanDns = requiredText(253).transform((value, ctx) =>
  isDnsName(value)
    ? value.toLowerCase()
    : refuse(ctx, (field) => `${field} must be a DNS name such as orders.internal (no wildcard)`),
);
const certificateBound = optionalBoolean().meta({
  description:
    "binds every access token (and a public client's refresh tokens) to the client certificate presented at the token endpoint (RFC 8705 §3: cnf.x5t#S256)",
});

interface CertificateFields {
  auth_method?: OfferedAuthMethod | undefined;
  tls_subject?: string | undefined;
  tls_san_dns?: string | undefined;
  public_key?: unknown;
}

/**
 * The rules between a method and what it needs that can be judged from the body alone (the
 * service judges the rest, against the stored client): a subject only for tls_client_auth and at
 * most one; on creation, tls_client_auth needs one and a key-based method its first key.
 */
function certificateFieldProblem(body: CertificateFields, creating: boolean): Parameters<typeof refuse>[1] | undefined {
  const method = body.auth_method;
  if (body.tls_subject !== undefined && body.tls_san_dns !== undefined)
    return (_, name) => `give ${name('tls_subject')} or ${name('tls_san_dns')}, not both`;
  const subject = body.tls_subject !== undefined || body.tls_san_dns !== undefined;
  if (subject && method !== undefined && method !== 'tls_client_auth')
    return (_, name) =>
      `${name('tls_subject')} and ${name('tls_san_dns')} are for ${name('auth_method')} tls_client_auth`;
  if (!creating) return undefined;
  if (subject && method !== 'tls_client_auth')
    return (_, name) =>
      `${name('tls_subject')} and ${name('tls_san_dns')} are for ${name('auth_method')} tls_client_auth`;
  if (method === 'tls_client_auth' && !subject)
    return (_, name) =>
      `a tls_client_auth client needs the subject its certificate carries: ${name('tls_subject')} "CN=…,O=…" or ${name('tls_san_dns')} NAME`;
  if (method !== undefined && BY_PUBLIC_KEY.includes(method) && !body.public_key)
    return (_, name) =>
      `a ${method} client needs its first public key (${name('public_key')}): it has no secret to authenticate with`;
  if (body.public_key && !(method !== undefined && BY_PUBLIC_KEY.includes(method)))
    return (_, name) =>
      `${name('public_key')} at creation is for ${name('auth_method')} private_key_jwt or self_signed_tls_client_auth; add keys to other clients with clients add-key`;
  return undefined;
}

/** POST /clients */
export const createClientBody = z
  .strictObject({
    name,
    grant_types: grantTypes((field) => `${field} is required, e.g. client_credentials`).meta({ description: GRANTS }),
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    scopes,
    public: optionalBoolean().meta({ description: 'a client with no secret (token_endpoint_auth_method none)' }),
    auth_method: optional(authMethod).meta({ description: `${AUTH_METHOD_DESCRIPTION}; default client_secret_basic` }),
    public_key: optional(publicKeyText).meta({
      description:
        'the first public key of a private_key_jwt or self_signed_tls_client_auth client (PEM or one JWK: Ed25519, P-256, RSA ≥ 2048)',
    }),
    tls_subject: optional(tlsSubject).meta({ description: 'tls_client_auth: the subject DN of its certificate' }),
    tls_san_dns: optional(tlsSanDns).meta({
      description: 'tls_client_auth: a DNS name of its certificate (subjectAltName)',
    }),
    certificate_bound: certificateBound,
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
    const problem = certificateFieldProblem(body, true);
    if (problem) return refuse(ctx, problem);
    return {
      name: body.name,
      isPublic: body.public ?? false,
      authMethod: body.public ? ('none' as const) : (body.auth_method ?? 'client_secret_basic'),
      publicKey: body.public_key,
      tlsSubjectDn: body.tls_subject ?? null,
      tlsSanDns: body.tls_san_dns ?? null,
      certificateBound: body.certificate_bound ?? false,
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
  'auth_method',
  'tls_subject',
  'tls_san_dns',
  'public_key',
  'certificate_bound',
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
    auth_method: optional(authMethod).meta({
      description: `${AUTH_METHOD_DESCRIPTION}. Switching away from client_secret_basic ends its secret at once; switching to it issues a new secret, shown once`,
    }),
    tls_subject: optional(tlsSubject).meta({ description: 'tls_client_auth: the subject DN of its certificate' }),
    tls_san_dns: optional(tlsSanDns).meta({
      description: 'tls_client_auth: a DNS name of its certificate (subjectAltName)',
    }),
    public_key: optional(publicKeyText).meta({
      description:
        'a public key to register along with a switch to private_key_jwt or self_signed_tls_client_auth (PEM or one JWK)',
    }),
    certificate_bound: certificateBound,
  })
  .transform((body, ctx) => {
    const problem = certificateFieldProblem(body, false);
    if (problem) return refuse(ctx, problem);
    const changes = {
      name: body.name,
      grantTypes: body.grant_types,
      redirectUris: body.redirect_uris,
      postLogoutRedirectUris: body.post_logout_redirect_uris,
      scopes: body.scopes,
      firstParty: body.first_party,
      disabled: body.disabled,
      rateLimit: body.rate_limit,
      authMethod: body.auth_method,
      tlsSubjectDn: body.tls_subject,
      tlsSanDns: body.tls_san_dns,
      publicKey: body.public_key,
      certificateBound: body.certificate_bound,
    };
    if (Object.values(changes).every((value) => value === undefined)) {
      return refuse(ctx, () => `nothing to update: give one of ${UPDATE_FIELDS.join(', ')}`);
    }
    return changes;
  });
export type UpdateClientInput = z.output<typeof updateClientBody>;
