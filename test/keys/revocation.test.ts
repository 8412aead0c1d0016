import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@tollgate/resource-server';
import { isolatedPostgres, onPostgres } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

interface Key {
  kid: string;
  alg: string;
  state: string;
}

async function keys(server: TestServer): Promise<Key[]> {
  const response = await server.admin('get', '/keys');
  expect(response.status).toBe(200);
  return response.body as Key[];
}

async function published(server: TestServer): Promise<string[]> {
  const response = await server.public().get('/jwks');
  expect(response.status).toBe(200);
  return response.body.keys.map((key: { kid: string }) => key.kid);
}

function kidOf(state: string, alg: string, ring: Key[]): string {
  const key = ring.find((candidate) => candidate.alg === alg && candidate.state === state);
  expect(key, `${state} ${alg}`).toBeTruthy();
  return key!.kid;
}

async function token(server: TestServer, client: ClientFixture, api: ApiFixture): Promise<string> {
  const response = await server
    .public()
    .post('/token')
    .auth(client.client_id, client.client_secret)
    .type('form')
    .send({ grant_type: 'client_credentials', resource: api.identifier, scope: api.scopes[0] });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.access_token;
}

async function introspect(server: TestServer, client: ClientFixture, jwt: string): Promise<boolean> {
  const response = await server
    .public()
    .post('/token/introspection')
    .auth(client.client_id, client.client_secret)
    .type('form')
    .send({ token: jwt });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.active;
}

function revoke(server: TestServer, kid: string) {
  return server.admin('post', `/keys/${encodeURIComponent(kid)}/revoke`);
}

// Revocations change the ring every server on a database signs with: on PostgreSQL these tests
// get a database of their own, so other test files sharing TEST_DATABASE_URL are not disturbed.
describe('revoking a signing key (a leaked key)', () => {
  let server: TestServer;
  let api: ApiFixture;
  let client: ClientFixture;
  let database: Awaited<ReturnType<typeof isolatedPostgres>>;

  beforeAll(async () => {
    database = await isolatedPostgres();
    server = await startServer({ env: { JWKS_MAX_AGE: '300', ...(database ? { DATABASE_URL: database.url } : {}) } });
    api = await createApi(server); // ES256, the default
    client = await createServiceClient(server, [api.scopes[0]!]);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('answers 404 with a clear message for a kid it does not hold, and changes nothing', async () => {
    const before = await keys(server);
    for (const kid of ['no-such-kid', `${before[0]!.kid}x`, 'x'.repeat(2000)]) {
      const response = await revoke(server, kid);
      expect(response.status, kid).toBe(404);
      expect(response.body.error).toBe('not_found');
      expect(response.body.error_description).toMatch(/no signing key has the kid/);
    }
    // A control character never reaches the route: the admin API's URL guard refuses it.
    const controlled = await revoke(server, 'bad\u0000kid');
    expect(controlled.status).toBe(400);
    expect(controlled.body.error).toBe('invalid_request');
    expect(await keys(server)).toEqual(before);
  });

  it('withdraws a current key and its next at once; a verifier refuses its tokens after refetching, new tokens verify', async () => {
    const verifier = createVerifier({ issuer: server.issuer, audience: api.identifier });
    const before = await token(server, client, api);
    const ring = await keys(server);
    const leaked = kidOf('current', 'ES256', ring);
    const leakedNext = kidOf('next', 'ES256', ring);
    expect(decodeProtectedHeader(before).kid).toBe(leaked);
    await expect(verifier.verify(before)).resolves.toMatchObject({ client_id: client.client_id }); // the verifier caches the JWKS
    expect(await introspect(server, client, before)).toBe(true);

    const response = await revoke(server, leaked);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect([...response.body.revoked].sort()).toEqual([leaked, leakedNext].sort());

    // Gone at once from the JWKS and from the list, with a fresh current and next in their place.
    const after = await keys(server);
    expect(response.body.keys).toEqual(after);
    const jwks = await published(server);
    for (const kid of [leaked, leakedNext]) {
      expect(jwks).not.toContain(kid);
      expect(after.map((key) => key.kid)).not.toContain(kid);
    }
    const freshCurrent = kidOf('current', 'ES256', after);
    const freshNext = kidOf('next', 'ES256', after);
    expect(jwks).toEqual(expect.arrayContaining([freshCurrent, freshNext]));
    // Other algorithms are untouched.
    for (const alg of ['RS256', 'PS256', 'EdDSA'])
      expect(kidOf('current', alg, after)).toBe(kidOf('current', alg, ring));

    // New tokens are signed by the fresh key, which is published; the verifier meets an unknown
    // kid, refetches, and from then on no longer holds the revoked key.
    const fresh = await token(server, client, api);
    expect(decodeProtectedHeader(fresh).kid).toBe(freshCurrent);
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ client_id: client.client_id });
    await expect(verifier.verify(before)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect(await introspect(server, client, before)).toBe(false);
    expect(await introspect(server, client, fresh)).toBe(true);

    // Nothing left to pick up: the instance that revoked already serves the new ring.
    expect(await server.tollgate.maintainKeys()).toBe(false);
  });

  it('a revoked key is never promoted again', async () => {
    const ring = await keys(server);
    const revoked = kidOf('next', 'RS256', ring);
    expect((await revoke(server, revoked)).status).toBe(200);
    await server.tollgate.database
      .knex('signing_keys')
      .where({ state: 'next' })
      .update({ published_at: new Date(Date.now() - 400_000) });
    expect((await server.admin('post', '/keys/rotate', {})).status).toBe(200);
    expect((await keys(server)).map((key) => key.kid)).not.toContain(revoked);
    expect(await published(server)).not.toContain(revoked);
    expect((await revoke(server, revoked)).status).toBe(404); // already gone
  });

  it("revoking a next key replaces that algorithm's current and next, and leaves previous keys alone", async () => {
    const ring = await keys(server);
    const previous = ring.filter((key) => key.state === 'previous').map((key) => key.kid);
    expect(previous.length).toBeGreaterThan(0); // from the rotation above
    const next = kidOf('next', 'EdDSA', ring);
    const current = kidOf('current', 'EdDSA', ring);
    const response = await revoke(server, next);
    expect(response.status).toBe(200);
    expect([...response.body.revoked].sort()).toEqual([current, next].sort());
    const after = await keys(server);
    expect(kidOf('current', 'EdDSA', after)).not.toBe(current);
    expect(kidOf('next', 'EdDSA', after)).not.toBe(next);
    expect(
      after
        .filter((key) => key.state === 'previous')
        .map((key) => key.kid)
        .sort(),
    ).toEqual([...previous].sort());
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA']) {
      expect(
        after.filter((key) => key.alg === alg && key.state === 'current'),
        alg,
      ).toHaveLength(1);
      expect(
        after.filter((key) => key.alg === alg && key.state === 'next'),
        alg,
      ).toHaveLength(1);
    }
  });

  it('revoking a previous key just removes it', async () => {
    const ring = await keys(server);
    const previous = ring.find((key) => key.state === 'previous')!;
    const response = await revoke(server, previous.kid);
    expect(response.status).toBe(200);
    expect(response.body.revoked).toEqual([previous.kid]);
    const after = await keys(server);
    expect(after.map((key) => key.kid).sort()).toEqual(
      ring
        .map((key) => key.kid)
        .filter((kid) => kid !== previous.kid)
        .sort(),
    );
    expect(await published(server)).not.toContain(previous.kid);
  });
});

describe.skipIf(!onPostgres)('revoking a signing key with several instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let api: ApiFixture;
  let client: ClientFixture;
  let instances: TwoInstances | undefined;

  beforeAll(async () => {
    // The slowest key-ring check allowed: the test runs the check itself, as the timer would.
    instances = await startTwoInstances({ KEY_RING_CHECK_SECONDS: '60' });
    ({ a, b, api, client } = instances);
  });
  afterAll(async () => {
    await instances?.close();
  });

  it('the other instance stops signing with the revoked key and stops publishing it at its next key-ring check', async () => {
    const leaked = decodeProtectedHeader(await token(b, client, api)).kid!;
    expect((await revoke(a, leaked)).status).toBe(200);
    expect(await a.tollgate.maintainKeys()).toBe(false);

    expect(await b.tollgate.maintainKeys()).toBe(true);
    const signedByB = decodeProtectedHeader(await token(b, client, api)).kid;
    expect(signedByB).not.toBe(leaked);
    expect(signedByB).toBe(decodeProtectedHeader(await token(a, client, api)).kid);
    expect(await published(b)).not.toContain(leaked);
    expect(await published(b)).toContain(signedByB);
    expect((await keys(b)).map((key) => key.kid)).not.toContain(leaked);
    expect(await b.tollgate.maintainKeys()).toBe(false);
  });
});
