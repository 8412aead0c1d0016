import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Api } from '../apis/api.js';
import { scopeOwners, type ApiCatalog, type ApiSnapshot } from '../apis/api-catalog.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { isReservedScope } from '../lib/scope-names.js';
import { wrapGrantFind } from '../oidc-provider/internals.js';
import type { KeySnapshot } from '../keys/key-snapshot.js';

/**
 * Audience and scope rules for every token (the contract's "APIs and scopes" and "Audience"):
 * - the `resource` parameter (RFC 8707) names the API; without it, the API owning the requested
 *   scopes is the audience, and for client_credentials with no scope, the one API the client may call;
 * - an unknown resource is `invalid_target`;
 * - a scope the client or the API does not allow is `invalid_scope`, never silently dropped
 *   (oidc-provider on its own would filter it out of the token and answer 200).
 */

interface ClientLike {
  clientId: string;
}

function requestedScopes(ctx: KoaContextWithOIDC): string[] {
  const scope = ctx.oidc.params?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function isClientCredentials(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.params?.grant_type === 'client_credentials';
}

async function allowedScopes(directory: ClientDirectory, client: ClientLike): Promise<Set<string>> {
  return new Set((await directory.find(client.clientId))?.scopes);
}

/** The API a request means when it names none. */
export async function defaultResource(
  catalog: ApiCatalog,
  directory: ClientDirectory,
  ctx: KoaContextWithOIDC,
  client: ClientLike,
): Promise<string | undefined> {
  const snapshot = await catalog.snapshot();
  const apiScopes = requestedScopes(ctx).filter((scope) => !isReservedScope(scope));
  const { owners, unowned } = scopeOwners(snapshot, apiScopes);
  const [unknown] = unowned;
  if (unknown !== undefined)
    throw new errors.InvalidScope(`scope "${unknown}" is not a scope of any registered API`, unknown);
  if (owners.size > 1) {
    throw new errors.InvalidTarget(
      `the requested scopes belong to more than one API (${[...owners.keys()].join(', ')}): a token is for one API, so request them separately, naming each with the resource parameter`,
    );
  }
  const [owner] = owners.keys();
  if (owner) return owner;
  if (!isClientCredentials(ctx)) return undefined;

  const callable = new Set(
    [...(await allowedScopes(directory, client))]
      .filter((scope) => snapshot.byScope.has(scope))
      .map((scope) => snapshot.byScope.get(scope)!.identifier),
  );
  if (callable.size === 1) return [...callable][0];
  throw new errors.InvalidTarget(
    callable.size
      ? 'this client may call several APIs: name one with the resource parameter or request its scopes'
      : 'this client is not allowed any API scope, so there is no API to issue a token for',
  );
}

/** Checks the requested scopes against the API and the client, filling the client_credentials default. */
function enforceScopes(ctx: KoaContextWithOIDC, snapshot: ApiSnapshot, api: Api, allowed: Set<string>): void {
  const requested = requestedScopes(ctx);
  const clientCredentials = isClientCredentials(ctx);

  if (clientCredentials && !requested.length) {
    // RFC 6749 §3.3: with no scope requested, the client's allowed scopes of this API.
    const defaults = api.scopes.filter((scope) => allowed.has(scope));
    if (!defaults.length)
      throw new errors.InvalidScope(`this client is not allowed any scope of ${api.identifier}`, api.scopes.join(' '));
    ctx.oidc.params!.scope = defaults.join(' ');
    return;
  }
  for (const scope of requested) {
    if (isReservedScope(scope)) {
      if (clientCredentials)
        throw new errors.InvalidScope(
          `"${scope}" is for tokens issued to users; client_credentials issues none`,
          scope,
        );
      continue;
    }
    if (!api.scopes.includes(scope)) {
      const owner = snapshot.byScope.get(scope);
      throw new errors.InvalidScope(
        owner
          ? `scope "${scope}" belongs to ${owner.identifier}, not to ${api.identifier}`
          : `scope "${scope}" is not a scope of ${api.identifier}`,
        scope,
      );
    }
    if (!allowed.has(scope)) throw new errors.InvalidScope(`this client is not allowed scope "${scope}"`, scope);
  }
}

interface GrantLike {
  clientId?: string;
  openid?: { scope?: string };
  resources?: Record<string, string>;
  getResourceScopeFiltered(resource: string, filter: string[]): string;
}

/**
 * The contract: narrowing a client's scopes applies to every token issued after it, from refresh
 * tokens and remembered consent too. oidc-provider derives every user token's scope from its
 * Grant — access tokens (`getResourceScopeFiltered`, `getOIDCScopeFiltered`), ID token claims and
 * so userinfo — at each code, device code and refresh token redemption. So the Grant, whenever it
 * is loaded, holds only what its client is still allowed: one rule for API and OpenID scopes on
 * every path (client_credentials has no Grant; enforceScopes checks it against the same list).
 * OpenID scopes narrow only for a client that lists some: one listing none may ask for any
 * (client-metadata.ts), and its Grant keeps them. A narrowed Grant saved again stays narrowed, so
 * a scope given back to the client needs the user's consent again unless it was remembered.
 */
export function narrowGrant(grant: GrantLike, allowed: readonly string[]): void {
  const permitted = new Set(allowed);
  const keep = (scopes: string) =>
    scopes
      .split(' ')
      .filter((scope) => permitted.has(scope))
      .join(' ');
  if (grant.openid?.scope && allowed.some(isReservedScope)) grant.openid.scope = keep(grant.openid.scope);
  for (const [resource, scopes] of Object.entries(grant.resources ?? {})) grant.resources![resource] = keep(scopes);
}

/** Makes every Grant oidc-provider loads follow its client's current scopes (narrowGrant). */
export function installGrantNarrowing(provider: Provider, directory: ClientDirectory): void {
  wrapGrantFind<GrantLike>(provider, (find) => async (id: unknown, options?: unknown) => {
    const grant = await find(id, options);
    const client = grant?.clientId ? await directory.find(grant.clientId) : undefined;
    if (grant && client) narrowGrant(grant, client.scopes);
    return grant;
  });
}

interface ScopedSource {
  scopes?: Set<string>;
}

/**
 * RFC 6749 §6: a refresh (or a code's redemption) issues at most what was granted; after a
 * narrowing, less — the response's `scope` says what (§5.1). When nothing the token was granted
 * for this API is still allowed, a token for the API would carry no permission at all: refused
 * with invalid_scope, so the client learns it must ask again instead of calling with it.
 */
function refuseEmptyUserToken(ctx: KoaContextWithOIDC, api: Api): void {
  if (ctx.oidc.route !== 'token' || isClientCredentials(ctx)) return;
  const grant = ctx.oidc.entities.Grant as unknown as GrantLike | undefined;
  const { RefreshToken, AuthorizationCode, DeviceCode } = ctx.oidc.entities as Record<string, ScopedSource | undefined>;
  const source = RefreshToken ?? AuthorizationCode ?? DeviceCode;
  if (!grant || !source) return;
  const requested = requestedScopes(ctx);
  const asked = (requested.length ? requested : [...(source.scopes ?? [])]).filter((scope) =>
    api.scopes.includes(scope),
  );
  if (asked.length && !grant.getResourceScopeFiltered(api.identifier, asked)) {
    throw new errors.InvalidScope(
      `this client is no longer allowed any of the scopes granted for ${api.identifier}; start a new authorization`,
      asked.join(' '),
    );
  }
}

/** What oidc-provider needs to mint an RFC 9068 JWT for an API. */
export async function resourceServerInfo(
  catalog: ApiCatalog,
  directory: ClientDirectory,
  keys: KeySnapshot,
  ctx: KoaContextWithOIDC,
  resource: string,
  client: ClientLike,
): Promise<ResourceServer> {
  const snapshot = await catalog.snapshot();
  const api = snapshot.byIdentifier.get(resource);
  if (!api) throw new errors.InvalidTarget(`unknown resource "${resource}": no API is registered with that identifier`);
  if (ctx.oidc.params) enforceScopes(ctx, snapshot, api, await allowedScopes(directory, client));
  refuseEmptyUserToken(ctx, api);
  return {
    scope: api.scopes.join(' '),
    audience: api.identifier,
    accessTokenTTL: api.tokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: api.alg, kid: keys.currentKid(api.alg) } },
  };
}
