import fc from 'fast-check';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import type { Api } from '../../src/apis/api.js';
import type { ApiCatalog } from '../../src/apis/api-catalog.js';
import type { ClientDirectory } from '../../src/clients/client-directory.js';
import type { Client } from '../../src/clients/client.js';
import type { KeySnapshot } from '../../src/keys/key-snapshot.js';
import { defaultResource, narrowGrant, resourceServerInfo } from '../../src/oidc/resource-policy.js';

/**
 * The audience and scope rules for every token (contract, "APIs and scopes"), without a server:
 * the catalog, the client directory and the key snapshot are the few fields the rules read.
 * At the token endpoint: test/oidc/client-credentials.test.ts, test/security/scope-narrowing.test.ts.
 */

function apiOf(identifier: string, scopes: string[]): Api {
  const at = new Date(0);
  return { id: identifier, identifier, name: null, scopes, tokenTtl: 600, alg: 'ES256', createdAt: at, updatedAt: at };
}

const LEDGER = apiOf('https://ledger.example.test', ['ledger:read', 'ledger:write', 'ledger:admin']);
const BILLING = apiOf('https://billing.example.test', ['billing:read']);
const APIS = [LEDGER, BILLING];
const RESERVED = ['openid', 'profile', 'email', 'offline_access'];
const EVERY_SCOPE = [...RESERVED, ...APIS.flatMap((api) => api.scopes)];

const catalog = {
  snapshot: async () => ({
    byIdentifier: new Map(APIS.map((api) => [api.identifier, api])),
    byScope: new Map(APIS.flatMap((api) => api.scopes.map((scope) => [scope, api] as const))),
  }),
} as unknown as ApiCatalog;

const keys = { currentKid: (alg: string) => `kid-${alg}` } as unknown as KeySnapshot;

/** A directory holding one client, `client-1`, allowed these scopes. */
function directoryAllowing(scopes: string[]): ClientDirectory {
  return {
    find: async (id: string) => (id === 'client-1' ? ({ id, scopes } as Client) : undefined),
  } as unknown as ClientDirectory;
}

const CLIENT = { clientId: 'client-1' };

interface Context {
  params: Record<string, string | undefined>;
  route?: string;
  entities?: Record<string, unknown>;
}

function contextOf({ params, route = 'token', entities = {} }: Context): KoaContextWithOIDC {
  return { oidc: { params, route, entities } } as unknown as KoaContextWithOIDC;
}

/** The OAuth error a rule refused with, or undefined when it answered. */
async function oauthError(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const code = (error as { error?: unknown }).error;
    if (typeof code !== 'string') throw error;
    return code;
  }
}

const requestedScopes = fc.subarray([...EVERY_SCOPE, 'unknown:scope']);

describe('defaultResource: the API a request means when it names none', () => {
  const directory = directoryAllowing([...LEDGER.scopes, 'openid']);

  it("is the one API owning the requested scopes, OpenID Connect's own scopes aside", async () => {
    const ctx = contextOf({ params: { scope: 'openid ledger:read  profile ledger:write' } });
    await expect(defaultResource(catalog, directory, ctx, CLIENT)).resolves.toBe(LEDGER.identifier);
  });

  it('for any requested scopes: their one owner, invalid_target for several, invalid_scope for an unknown one, none for none', async () => {
    await fc.assert(
      fc.asyncProperty(requestedScopes, async (scopes) => {
        const ctx = contextOf({ params: { grant_type: 'authorization_code', scope: scopes.join(' ') } });
        const owners = new Set(
          APIS.filter((api) => scopes.some((scope) => api.scopes.includes(scope))).map((api) => api.identifier),
        );
        const expected = scopes.includes('unknown:scope')
          ? 'invalid_scope'
          : owners.size > 1
            ? 'invalid_target'
            : undefined;
        const result = defaultResource(catalog, directory, ctx, CLIENT);
        if (expected) await expect(oauthError(result)).resolves.toBe(expected);
        else await expect(result).resolves.toBe([...owners][0]);
      }),
      { numRuns: 300 },
    );
  });

  it('for client_credentials without API scopes: the one API the client may call, else invalid_target', async () => {
    const ctx = contextOf({ params: { grant_type: 'client_credentials' } });
    await expect(defaultResource(catalog, directoryAllowing(['openid', 'ledger:read']), ctx, CLIENT)).resolves.toBe(
      LEDGER.identifier,
    );
    const several = defaultResource(catalog, directoryAllowing(['ledger:read', 'billing:read']), ctx, CLIENT);
    await expect(several).rejects.toMatchObject({
      error: 'invalid_target',
      error_description: expect.stringMatching(/several APIs/),
    });
    const none = defaultResource(catalog, directoryAllowing(['openid', 'retired:scope']), ctx, CLIENT);
    await expect(none).rejects.toMatchObject({
      error: 'invalid_target',
      error_description: expect.stringMatching(/not allowed any API scope/),
    });
    const unknownClient = defaultResource(catalog, directoryAllowing([]), ctx, { clientId: 'someone-else' });
    await expect(oauthError(unknownClient)).resolves.toBe('invalid_target');
  });
});

describe('resourceServerInfo: checking a token request against its API and its client', () => {
  it('answers what oidc-provider needs to mint an RFC 9068 JWT for the API', async () => {
    const ctx = contextOf({ params: { scope: 'ledger:read' } });
    await expect(
      resourceServerInfo(catalog, directoryAllowing(['ledger:read']), keys, ctx, LEDGER.identifier, CLIENT),
    ).resolves.toEqual({
      scope: 'ledger:read ledger:write ledger:admin',
      audience: LEDGER.identifier,
      accessTokenTTL: 600,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256', kid: 'kid-ES256' } },
    });
  });

  it('refuses an unknown resource with invalid_target (RFC 8707)', async () => {
    const ctx = contextOf({ params: { scope: 'ledger:read' } });
    const result = resourceServerInfo(
      catalog,
      directoryAllowing(['ledger:read']),
      keys,
      ctx,
      'https://nowhere.example.test',
      CLIENT,
    );
    await expect(result).rejects.toMatchObject({
      error: 'invalid_target',
      error_description: expect.stringMatching(/unknown resource/),
    });
  });

  it("for any request: refused with invalid_scope unless every scope is the API's and allowed, or OpenID's own outside client_credentials", async () => {
    await fc.assert(
      fc.asyncProperty(
        requestedScopes.filter((scopes) => scopes.length > 0),
        fc.subarray(EVERY_SCOPE),
        fc.boolean(),
        async (requested, allowed, clientCredentials) => {
          const scope = requested.join(' ');
          const params = { grant_type: clientCredentials ? 'client_credentials' : 'authorization_code', scope };
          const acceptable = requested.every((name) =>
            RESERVED.includes(name) ? !clientCredentials : LEDGER.scopes.includes(name) && allowed.includes(name),
          );
          const result = resourceServerInfo(
            catalog,
            directoryAllowing(allowed),
            keys,
            contextOf({ params }),
            LEDGER.identifier,
            CLIENT,
          );
          await expect(oauthError(result)).resolves.toBe(acceptable ? undefined : 'invalid_scope');
          // A scope is never silently dropped: what was asked for is what the token will be for.
          expect(params.scope).toBe(scope);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('says why a scope is refused', async () => {
    const refusal = (scope: string, allowed: string[], grantType = 'authorization_code') =>
      resourceServerInfo(
        catalog,
        directoryAllowing(allowed),
        keys,
        contextOf({ params: { grant_type: grantType, scope } }),
        LEDGER.identifier,
        CLIENT,
      ).then(
        () => undefined,
        (error: { error_description: string }) => error.error_description,
      );
    await expect(refusal('billing:read', ['billing:read'])).resolves.toBe(
      `scope "billing:read" belongs to ${BILLING.identifier}, not to ${LEDGER.identifier}`,
    );
    await expect(refusal('nope', [])).resolves.toBe(`scope "nope" is not a scope of ${LEDGER.identifier}`);
    await expect(refusal('ledger:write', ['ledger:read'])).resolves.toBe(
      'this client is not allowed scope "ledger:write"',
    );
    await expect(refusal('openid', ['openid'], 'client_credentials')).resolves.toMatch(
      /"openid" is for tokens issued to users/,
    );
  });

  it("client_credentials without a scope gets the client's allowed scopes of the API, in the API's order (RFC 6749 §3.3)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(EVERY_SCOPE), async (allowed) => {
        const params: Record<string, string | undefined> = { grant_type: 'client_credentials' };
        const result = resourceServerInfo(
          catalog,
          directoryAllowing(allowed),
          keys,
          contextOf({ params }),
          LEDGER.identifier,
          CLIENT,
        );
        const defaults = LEDGER.scopes.filter((scope) => allowed.includes(scope));
        if (defaults.length) {
          await expect(oauthError(result)).resolves.toBeUndefined();
          expect(params.scope).toBe(defaults.join(' '));
        } else {
          await expect(oauthError(result)).resolves.toBe('invalid_scope');
        }
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a user token that would carry none of its API's scopes after a narrowing, and issues one that keeps some", async () => {
    const issued = (kept: string) =>
      resourceServerInfo(
        catalog,
        directoryAllowing(LEDGER.scopes),
        keys,
        contextOf({
          params: { grant_type: 'refresh_token' },
          entities: {
            Grant: {
              getResourceScopeFiltered: (resource: string, asked: string[]) =>
                resource === LEDGER.identifier ? asked.filter((s) => s === kept).join(' ') : '',
            },
            RefreshToken: { scopes: new Set(['openid', 'ledger:read', 'ledger:write']) },
          },
        }),
        LEDGER.identifier,
        CLIENT,
      );
    await expect(issued('ledger:write')).resolves.toMatchObject({ audience: LEDGER.identifier });
    await expect(issued('ledger:admin')).rejects.toMatchObject({
      error: 'invalid_scope',
      error_description: expect.stringMatching(/no longer allowed/),
    });
  });
});

describe('narrowGrant: a Grant holds only what its client is still allowed', () => {
  const subsetOf = (scopes: string[]) => fc.subarray(scopes).map((list) => list.join(' '));
  const grant = fc.record({
    openid: fc.record({ scope: subsetOf(RESERVED) }),
    resources: fc.record({
      [LEDGER.identifier]: subsetOf(LEDGER.scopes),
      [BILLING.identifier]: subsetOf(BILLING.scopes),
    }),
  });
  const keep = (scopes: string, allowed: string[]) =>
    scopes
      .split(' ')
      .filter((scope) => allowed.includes(scope))
      .join(' ');

  it('keeps, in order, exactly the allowed scopes of every API; OpenID scopes only when the client lists some', () => {
    fc.assert(
      fc.property(grant, fc.subarray(EVERY_SCOPE), (original, allowed) => {
        const narrowed = structuredClone(original);
        narrowGrant({ ...narrowed, getResourceScopeFiltered: () => '' }, allowed);
        for (const [resource, scopes] of Object.entries(original.resources)) {
          expect(narrowed.resources[resource], resource).toBe(keep(scopes, allowed));
        }
        const listsOpenIdScopes = allowed.some((scope) => RESERVED.includes(scope));
        expect(narrowed.openid.scope).toBe(
          listsOpenIdScopes ? keep(original.openid.scope, allowed) : original.openid.scope,
        );

        const again = structuredClone(narrowed);
        narrowGrant({ ...again, getResourceScopeFiltered: () => '' }, allowed);
        expect(again).toEqual(narrowed);
      }),
      { numRuns: 500 },
    );
  });
});
