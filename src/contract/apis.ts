import { z } from 'zod';
import { isReservedScope, isScopeToken } from '../lib/scope-names.js';
import { SIGNING_ALGORITHMS } from '../lib/signing-algorithms.js';
import { MAX_TOKEN_TTL, tokenTtlLimitMessage } from '../lib/token-lifetime.js';
import { integer, list, optional, optionalText, requiredText } from './wire-fields.js';
import { refuse } from './wording.js';

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
function resourceIdentifier(value: string, ctx: z.RefinementCtx): string {
  const url = URL.parse(value);
  if (!url || !/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    return refuse(ctx, (field) => `${field} must be an absolute URI such as https://api.example.com, got "${value}"`);
  }
  if (url.hash || value.includes('#')) return refuse(ctx, (field) => `${field} must not contain a fragment (#…)`);
  return value;
}

/** API scopes: RFC 6749 §3.3 scope tokens, none of the OpenID Connect ones. */
const apiScopes = list().transform((scopes, ctx) => {
  for (const scope of scopes) {
    if (!isScopeToken(scope))
      return refuse(
        ctx,
        () => `"${scope}" is not a valid scope name (printable ASCII without spaces, quotes or backslashes)`,
      );
    if (isReservedScope(scope))
      return refuse(ctx, () => `"${scope}" is reserved for OpenID Connect and cannot be an API scope`);
  }
  return scopes;
});

const identifier = requiredText(2048)
  .transform(resourceIdentifier)
  .meta({ description: "the API's audience: an absolute URI without a fragment (RFC 8707)" });
const tokenTtl = optional(
  integer(1, MAX_TOKEN_TTL, (field, value) => `${tokenTtlLimitMessage(field)}, got ${value}`),
).meta({ description: 'access-token lifetime in seconds (default 600)' });
const name = optionalText().meta({ description: 'a name for people' });
const scopes = optional(apiScopes).meta({
  description: 'the scopes it defines; names are unique across APIs (orders:read)',
});
const alg = optional(z.enum(SIGNING_ALGORITHMS)).meta({
  description: 'the JWS algorithm its tokens are signed with (default ES256)',
});

/** POST /apis */
export const createApiBody = z
  .strictObject({
    identifier,
    name: name,
    scopes,
    token_ttl: tokenTtl,
    alg,
  })
  .transform((body) => ({
    identifier: body.identifier,
    name: body.name,
    scopes: body.scopes ?? [],
    tokenTtl: body.token_ttl,
    alg: body.alg,
  }));
export type CreateApiInput = z.output<typeof createApiBody>;

/** PATCH /apis/:id: only what is given changes; `identifier`, when present, must be one. */
export const updateApiBody = z
  .strictObject({
    identifier: identifier.optional(),
    name: name,
    scopes,
    token_ttl: tokenTtl,
    alg,
  })
  .transform((body) => ({
    identifier: body.identifier,
    name: body.name,
    scopes: body.scopes,
    tokenTtl: body.token_ttl,
    alg: body.alg,
  }));
export type UpdateApiInput = z.output<typeof updateApiBody>;
