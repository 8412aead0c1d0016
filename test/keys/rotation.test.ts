import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedPostgres, onPostgres } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

interface Key {
  kid: string;
  alg: string;
  state: string;
  remove_after: string | null;
}

/** Pretend time has passed since the ring was last changed: the next keys are old enough. */
async function ageNextKeys(server: TestServer, seconds: number) {
  await server.tollgate.database
    .knex('signing_keys')
    .where({ state: 'next' })
    .update({ published_at: new Date(Date.now() - seconds * 1000) });
}

async function keys(server: TestServer): Promise<Key[]> {
  return (await server.admin('get', '/keys')).body as Key[];
}

async function token(server: TestServer, client: ClientFixture, api: ApiFixture): Promise<string> {
  const response = await server
    .public()
    .post('/token')
    .auth(client.client_id, client.client_secret)
    .type('form')
    .send({ grant_type: 'client_credentials', resource: api.identifier });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.access_token;
}

// Rotations change the ring every server on a database signs with: on PostgreSQL these tests get
// a database of their own, so other test files sharing TEST_DATABASE_URL are not disturbed.
describe('signing-key rotation', () => {
  let server: TestServer;
  let api: ApiFixture;
  let client: ClientFixture;
  let database: Awaited<ReturnType<typeof isolatedPostgres>>;

  beforeAll(async () => {
    database = await isolatedPostgres();
    server = await startServer({ env: { JWKS_MAX_AGE: '5', ...(database ? { DATABASE_URL: database.url } : {}) } });
    api = await createApi(server);
    client = await createServiceClient(server, [api.scopes[0]!]);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('is refused until the next key has been published for JWKS_MAX_AGE + 60 s, saying when', async () => {
    const response = await server.admin('post', '/keys/rotate', {});
    expect(response.status).toBe(409);
    expect(response.body.error).toBe('rotation_too_early');
    const possibleAt = new Date(response.body.possible_at).getTime();
    const next = (await keys(server)).find((key) => key.state === 'next')!;
    expect(possibleAt).toBeGreaterThan(Date.now());
    expect(response.body.error_description).toContain('--force');
    expect(next).toBeTruthy();
  });

  it('rotates with zero failed validations for a verifier with a cached JWKS', async () => {
    const verifier = createRemoteJWKSet(new URL(`${server.issuer}/jwks`)); // jose's default caching
    const check = async (jwt: string) => {
      try {
        await jwtVerify(jwt, verifier, { issuer: server.issuer, audience: api.identifier, typ: 'at+jwt' });
        return true;
      } catch {
        return false;
      }
    };
    const before = await token(server, client, api);
    expect(await check(before)).toBe(true); // the verifier now caches the JWKS, next keys included
    const oldKid = decodeProtectedHeader(before).kid;

    let failures = 0;
    let verified = 0;
    const stream = (async () => {
      for (let i = 0; i < 60; i += 1) {
        if (await check(await token(server, client, api))) verified += 1;
        else failures += 1;
      }
    })();
    await ageNextKeys(server, 5 + 61);
    const rotated = await server.admin('post', '/keys/rotate', {});
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    await stream;
    expect(failures).toBe(0);
    expect(verified).toBe(60);

    const after = await token(server, client, api);
    const newKid = decodeProtectedHeader(after).kid;
    expect(newKid).not.toBe(oldKid); // the instance that served the command signs with the new key at once
    const ring = await keys(server);
    expect(ring.find((key) => key.kid === newKid)?.state).toBe('current');
    expect(ring.find((key) => key.kid === oldKid)?.state).toBe('previous');
    expect(ring.filter((key) => key.state === 'next')).toHaveLength(4);
    expect(await check(before)).toBe(true); // tokens signed before the rotation still verify
  });

  it('removes a previous key once everything it signed has expired (plus skew)', async () => {
    const previous = (await keys(server)).filter((key) => key.state === 'previous');
    expect(previous.length).toBeGreaterThan(0);
    expect(new Date(previous[0]!.remove_after!).getTime()).toBeGreaterThan(Date.now() + 3600_000);
    const jwksBefore = (await server.public().get('/jwks')).body.keys.map((key: { kid: string }) => key.kid);
    expect(jwksBefore).toContain(previous[0]!.kid);

    await server.tollgate.database
      .knex('signing_keys')
      .where({ state: 'previous' })
      .update({ remove_after: new Date(Date.now() - 1000) });
    expect(await server.tollgate.maintainKeys()).toBe(true);
    const jwksAfter = (await server.public().get('/jwks')).body.keys.map((key: { kid: string }) => key.kid);
    for (const key of previous) expect(jwksAfter).not.toContain(key.kid);
  });

  it('--force rotates at once (a leaked key)', async () => {
    const currentBefore = (await keys(server)).find((key) => key.alg === 'ES256' && key.state === 'current')!.kid;
    const forced = await server.admin('post', '/keys/rotate', { force: true });
    expect(forced.status).toBe(200);
    expect(decodeProtectedHeader(await token(server, client, api)).kid).not.toBe(currentBefore);
  });

  it('rotates on schedule, once even when the job runs twice at the same moment', async () => {
    const db = server.tollgate.database.knex;
    await db('signing_keys')
      .where({ state: 'current' })
      .update({ activated_at: new Date(Date.now() - 31 * 86_400_000) });
    await ageNextKeys(server, 400);
    const countBefore = (await db('signing_keys').count({ n: '*' }))[0]!.n;
    const results = await Promise.all([server.tollgate.maintainKeys(), server.tollgate.maintainKeys()]);
    expect(results).toContain(true);
    const countAfter = (await db('signing_keys').count({ n: '*' }))[0]!.n;
    expect(Number(countAfter) - Number(countBefore)).toBe(4); // one new next key per algorithm
    expect((await keys(server)).filter((key) => key.state === 'current')).toHaveLength(4);
  });

  it('serves the JWKS with an ETag and answers a conditional request with 304', async () => {
    const first = await server.public().get('/jwks');
    expect(first.headers.etag).toBeTruthy();
    expect(first.headers['cache-control']).toBe('public, max-age=5');
    const again = await server.public().get('/jwks').set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
    expect(again.text).toBeFalsy();
  });
});

describe.skipIf(onPostgres)('key-encryption-key rotation', () => {
  it('re-seals the ring under the new KEY_ENCRYPTION_KEY at start, with the old one as _PREVIOUS', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-kek-'));
    const oldKek = crypto.randomBytes(32).toString('base64url');
    const newKek = crypto.randomBytes(32).toString('base64url');
    const first = await startServer({ dataDir, env: { KEY_ENCRYPTION_KEY: oldKek } });
    const kids = (await first.admin('get', '/keys')).body.map((key: Key) => key.kid).sort();
    await first.close();

    const second = await startServer({
      dataDir,
      env: { KEY_ENCRYPTION_KEY: newKek, KEY_ENCRYPTION_KEY_PREVIOUS: oldKek },
    });
    expect((await second.admin('get', '/keys')).body.map((key: Key) => key.kid).sort()).toEqual(kids);
    await second.close();

    // Re-sealed: the new key alone now opens everything, the old one alone nothing.
    const third = await startServer({ dataDir, env: { KEY_ENCRYPTION_KEY: newKek } });
    expect((await third.admin('get', '/keys')).body.map((key: Key) => key.kid).sort()).toEqual(kids);
    await third.close();
    await expect(startServer({ dataDir, env: { KEY_ENCRYPTION_KEY: oldKek } })).rejects.toThrow(/KEY_ENCRYPTION_KEY/);
  });
});

describe.skipIf(!onPostgres)('several instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let api: ApiFixture;
  let client: ClientFixture;
  let instances: TwoInstances | undefined;

  beforeAll(async () => {
    instances = await startTwoInstances({ KEY_RING_CHECK_SECONDS: '1' });
    ({ a, b, api, client } = instances);
  });
  afterAll(async () => {
    await instances?.close();
  });

  it('concurrent scheduled rotations on two instances produce one new set of keys', async () => {
    const db = a.tollgate.database.knex;
    await db('signing_keys')
      .where({ state: 'current' })
      .update({ activated_at: new Date(Date.now() - 31 * 86_400_000) });
    await ageNextKeys(a, 400);
    const countBefore = Number((await db('signing_keys').count({ n: '*' }))[0]!.n);
    await Promise.all([
      a.tollgate.maintainKeys(),
      b.tollgate.maintainKeys(),
      a.tollgate.maintainKeys(),
      b.tollgate.maintainKeys(),
    ]);
    expect(Number((await db('signing_keys').count({ n: '*' }))[0]!.n) - countBefore).toBe(4);
  });

  it('a rotation on one instance is signed with and served by the other within 60 s', async () => {
    const before = decodeProtectedHeader(await token(b, client, api)).kid;
    expect((await a.admin('post', '/keys/rotate', { force: true })).status).toBe(200);
    const newKid = decodeProtectedHeader(await token(a, client, api)).kid;
    expect(newKid).not.toBe(before);
    const started = Date.now();
    while (decodeProtectedHeader(await token(b, client, api)).kid !== newKid) {
      expect(Date.now() - started).toBeLessThan(60_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const jwks = (await b.public().get('/jwks')).body.keys.map((key: { kid: string }) => key.kid);
    expect(jwks).toContain(newKid);
    expect(jwks).toContain(before); // still published as previous
  });
});
