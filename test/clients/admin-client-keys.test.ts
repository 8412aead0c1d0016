import crypto from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../src/keys/sealed-box.js';
import { expectJsonError } from '../admin/admin-helpers.js';
import { entryFor, listAudit } from '../audit/audit-helpers.js';
import { TEST_KEY_ENCRYPTION_KEY, isolatedPostgres, unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/storage.js';
import { partnerKey, refusedKeys, secretClient, type KeyJson } from './client-key-helpers.js';

/**
 * A client's keys through the admin API (POST/GET /clients/:id/keys, DELETE …/:keyid): public
 * keys it registers, HMAC secrets Tollgate generates and keeps sealed. The CLI:
 * test/cli/cli-client-keys.test.ts; the keys at the token endpoint: test/oidc/private-key-jwt.test.ts.
 */

let server: TestServer;
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

const addKey = (clientId: string, body: unknown) => server.admin('post', `/clients/${clientId}/keys`, body);
const listKeys = async (clientId: string) => {
  const response = await server.admin('get', `/clients/${clientId}/keys`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as KeyJson[];
};

/** Every row of every table, as text: what a dump of the database would hold. */
async function dumpDatabase(): Promise<string> {
  const knex = server.tollgate.database.knex;
  const tables: { table_name: string }[] = await knex('information_schema.tables')
    .select('table_name')
    .whereRaw('table_schema = current_schema()')
    .andWhere('table_type', 'BASE TABLE');
  const rows: Record<string, unknown[]> = {};
  for (const { table_name: table } of tables) rows[table] = await knex(table).select();
  return JSON.stringify(rows);
}

describe('public keys', () => {
  it.each([
    ['Ed25519 as PEM', () => partnerKey('ed25519'), 'pem' as const],
    ['Ed25519 as JWK', () => partnerKey('ed25519'), 'jwk' as const],
    ['P-256 as PEM', () => partnerKey('p256'), 'pem' as const],
    ['P-256 as JWK', () => partnerKey('p256'), 'jwk' as const],
    ['RSA 2048 as PEM', () => partnerKey('rsa'), 'pem' as const],
    ['RSA 3072 as JWK', () => partnerKey('rsa', 3072), 'jwk' as const],
  ])('registers %s: keyid, the RFC 9421 alg, the RFC 7638 thumbprint', async (_what, make, form) => {
    const key = make();
    const clientId = await secretClient(server);
    const response = await addKey(clientId, { public_key: key[form] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const body = response.body as KeyJson;
    expect(Object.keys(body).sort()).toEqual(['alg', 'created_at', 'keyid', 'thumbprint']);
    expect(body.keyid).toMatch(/^ck_[A-Za-z0-9_-]{20,}$/);
    expect(body.alg).toBe(key.alg);
    // jose computes the thumbprint on its own from the same public key.
    expect(body.thumbprint).toBe(await calculateJwkThumbprint(key.publicKey.export({ format: 'jwk' }) as JWK));
    expect(Date.parse(body.created_at)).not.toBeNaN();
    expect(await listKeys(clientId)).toEqual([body]);
  });

  it('reads a PKCS#1 "RSA PUBLIC KEY" as well as SPKI', async () => {
    const key = partnerKey('rsa');
    const clientId = await secretClient(server);
    const pkcs1 = key.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const response = await addKey(clientId, { public_key: pkcs1 });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect((response.body as KeyJson).alg).toBe('rsa-pss-sha512');
  });

  it.each(refusedKeys().map((refused) => [refused.what, refused] as const))(
    'refuses %s with a readable message, storing nothing',
    async (_what, refused) => {
      const clientId = await secretClient(server);
      const response = await addKey(clientId, { public_key: refused.text });
      expectJsonError(response, 400, 'invalid_request');
      const description = (response.body as { error_description: string }).error_description;
      expect(description).toMatch(/^public_key /);
      expect(description).toMatch(refused.says);
      expect(await listKeys(clientId)).toEqual([]);
    },
  );

  it('refuses a body with neither or both of public_key and hmac', async () => {
    const clientId = await secretClient(server);
    for (const body of [{}, { hmac: false }, { public_key: partnerKey('ed25519').pem, hmac: true }]) {
      const response = await addKey(clientId, body);
      expectJsonError(response, 400, 'invalid_request');
      expect((response.body as { error_description: string }).error_description).toMatch(/public_key.*hmac/);
    }
    expect(await listKeys(clientId)).toEqual([]);
  });

  it('refuses the same public key twice on one client with 409, whether as PEM or JWK; another client may hold it', async () => {
    const key = partnerKey('p256');
    const clientId = await secretClient(server);
    const first = await addKey(clientId, { public_key: key.pem });
    expect(first.status).toBe(201);
    for (const again of [key.pem, key.jwk])
      expectJsonError(await addKey(clientId, { public_key: again }), 409, 'conflict');
    expect(await listKeys(clientId)).toHaveLength(1);

    const other = await secretClient(server);
    const there = await addKey(other, { public_key: key.pem });
    expect(there.status).toBe(201);
    expect((there.body as KeyJson).keyid).not.toBe((first.body as KeyJson).keyid);
    expect((there.body as KeyJson).thumbprint).toBe((first.body as KeyJson).thumbprint);
  });

  it('refuses keys for a public client, and for a client that does not exist', async () => {
    const created = await server.admin('post', '/clients', {
      name: unique('spa-'),
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
      public: true,
    });
    expect(created.status).toBe(201);
    const publicId = (created.body as { client_id: string }).client_id;
    for (const body of [{ public_key: partnerKey('ed25519').pem }, { hmac: true }]) {
      const response = await addKey(publicId, body);
      expectJsonError(response, 400, 'invalid_request');
      expect((response.body as { error_description: string }).error_description).toMatch(/public client/);
    }
    expectJsonError(await addKey('client_nope', { hmac: true }), 404, 'not_found');
    expectJsonError(await server.admin('get', '/clients/client_nope/keys'), 404, 'not_found');
  });
});

describe('HMAC secrets', () => {
  it('generates a 256-bit secret shown once, never listed, logged, audited or stored as it is', async () => {
    const clientId = await secretClient(server);
    const response = await addKey(clientId, { hmac: true });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.headers['cache-control']).toMatch(/no-store/);
    const body = response.body as KeyJson;
    expect(Object.keys(body)).toEqual(['keyid', 'alg', 'secret', 'created_at']);
    expect(body.alg).toBe('hmac-sha256');
    const secret = body.secret!;
    expect(secret).toMatch(/^tgh_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
    const random = secret.slice(4);

    const listed = await listKeys(clientId);
    expect(listed).toEqual([{ keyid: body.keyid, alg: 'hmac-sha256', created_at: body.created_at }]);
    const audit = JSON.stringify(await listAudit(server, 'limit=1000'));
    expect(audit).toContain(body.keyid);
    expect(server.logs.join('')).not.toContain(random);
    expect(audit).not.toContain(random);

    // A dump of every column of every table holds neither the secret nor its random part …
    const dump = await dumpDatabase();
    expect(dump).toContain(body.keyid);
    expect(dump).not.toContain(random);
    expect(dump).not.toContain(Buffer.from(random, 'base64url').toString('hex'));
    expect(dump).not.toContain(Buffer.from(random, 'base64url').toString('base64'));
    // … only a value sealed under the key-encryption key, which opens to it there and nowhere else.
    const row = await server.tollgate.database
      .knex('client_keys')
      .where({ keyid: body.keyid })
      .first<{ secret_sealed: string; public_jwk: unknown; thumbprint: unknown }>();
    expect(row.public_jwk).toBeNull();
    expect(row.thumbprint).toBeNull();
    const kek = Buffer.from(TEST_KEY_ENCRYPTION_KEY, 'base64url');
    expect(open([kek], row.secret_sealed, `client_key ${body.keyid}`)).toBe(secret);
    expect(() => open([crypto.randomBytes(32)], row.secret_sealed, `client_key ${body.keyid}`)).toThrow();
    expect(() => open([kek], row.secret_sealed, 'client_key ck_another')).toThrow();
  });

  it('re-seals HMAC secrets under a new key-encryption key during a rotation (KEY_ENCRYPTION_KEY_PREVIOUS)', async () => {
    // A database of its own: the rotation re-seals everything in it, the key ring too.
    const database = await isolatedPostgres();
    const dataDir = tempDir();
    const env: Record<string, string> = database ? { DATABASE_URL: database.url } : {};
    const before = await startServer({ env, dataDir });
    let secret: string;
    let keyid: string;
    try {
      const clientId = await secretClient(before);
      ({ secret, keyid } = (await before.admin('post', `/clients/${clientId}/keys`, { hmac: true }))
        .body as Required<KeyJson>);
    } finally {
      await before.close();
    }
    const newKek = crypto.randomBytes(32);
    const after = await startServer({
      env: {
        ...env,
        KEY_ENCRYPTION_KEY: newKek.toString('base64url'),
        KEY_ENCRYPTION_KEY_PREVIOUS: TEST_KEY_ENCRYPTION_KEY,
      },
      dataDir,
    });
    try {
      const row = await after.tollgate.database.knex('client_keys').where({ keyid }).first<{ secret_sealed: string }>();
      expect(open([newKek], row.secret_sealed, `client_key ${keyid}`)).toBe(secret);
      expect(() =>
        open([Buffer.from(TEST_KEY_ENCRYPTION_KEY, 'base64url')], row.secret_sealed, `client_key ${keyid}`),
      ).toThrow();
    } finally {
      await after.close();
      await database?.drop();
    }
  }, 120_000);

  it('gives every HMAC key its own secret and keyid', async () => {
    const clientId = await secretClient(server);
    const a = (await addKey(clientId, { hmac: true })).body as KeyJson;
    const b = (await addKey(clientId, { hmac: true })).body as KeyJson;
    expect(a.secret).not.toBe(b.secret);
    expect(a.keyid).not.toBe(b.keyid);
    expect(await listKeys(clientId)).toHaveLength(2);
  });
});

describe('removing keys, and the audit log', () => {
  it('removes a key (404 the second time) and records client.key_added and client.key_removed, never the secret', async () => {
    const clientId = await secretClient(server);
    const hmac = (await addKey(clientId, { hmac: true })).body as KeyJson;
    const key = partnerKey('ed25519');
    const pub = (await addKey(clientId, { public_key: key.pem })).body as KeyJson;

    const removed = await server.admin('delete', `/clients/${clientId}/keys/${hmac.keyid}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toEqual({ keyid: hmac.keyid, alg: 'hmac-sha256', created_at: hmac.created_at });
    expectJsonError(await server.admin('delete', `/clients/${clientId}/keys/${hmac.keyid}`), 404, 'not_found');
    expectJsonError(await server.admin('delete', `/clients/${clientId}/keys/${pub.keyid}x`), 404, 'not_found');
    // A key is removed only through its own client.
    const other = await secretClient(server);
    expectJsonError(await server.admin('delete', `/clients/${other}/keys/${pub.keyid}`), 404, 'not_found');
    expect((await listKeys(clientId)).map((listed) => listed.keyid)).toEqual([pub.keyid]);

    const entries = (await listAudit(server, 'limit=1000')).filter((entry) => entry.subject === clientId);
    const added = entries.filter((entry) => entry.type === 'client.key_added').map((entry) => entry.detail);
    expect(added).toEqual(
      expect.arrayContaining([
        { keyid: hmac.keyid, alg: 'hmac-sha256' },
        { keyid: pub.keyid, alg: 'ed25519', thumbprint: pub.thumbprint },
      ]),
    );
    expect((await entryFor(server, 'client.key_removed', clientId)).detail).toEqual({
      keyid: hmac.keyid,
      alg: 'hmac-sha256',
    });
    expect(JSON.stringify(entries)).not.toContain(hmac.secret!.slice(4));
  });

  it('deletes its keys with the client', async () => {
    const clientId = await secretClient(server, [api.scopes[0]!]);
    await addKey(clientId, { hmac: true });
    await addKey(clientId, { public_key: partnerKey('p256').pem });
    const count = async () =>
      Number(
        (await server.tollgate.database.knex('client_keys').where({ client_id: clientId }).count({ n: '*' }))[0]!.n,
      );
    expect(await count()).toBe(2);
    expect((await server.admin('delete', `/clients/${clientId}`)).status).toBe(200);
    expect(await count()).toBe(0);
  });
});

describe('private_key_jwt clients', () => {
  it('are created with their first key and no secret at all', async () => {
    const key = partnerKey('ed25519');
    const created = await server.admin('post', '/clients', {
      name: unique('jwt-'),
      grant_types: ['client_credentials'],
      auth_method: 'private_key_jwt',
      public_key: key.jwk,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const body = created.body as Record<string, unknown>;
    expect(body.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(body).not.toHaveProperty('client_secret');
    const clientId = body.client_id as string;
    const row = await server.tollgate.database
      .knex('clients')
      .where({ id: clientId })
      .first<{ secret_hash: unknown }>();
    expect(row.secret_hash).toBeNull();
    const [first] = await listKeys(clientId);
    expect(first).toMatchObject({ alg: 'ed25519' });
    expect((await entryFor(server, 'client.key_added', clientId)).detail).toMatchObject({ keyid: first!.keyid });

    // No secret to rotate; and its last key stays until a replacement is added.
    const rotate = await server.admin('post', `/clients/${clientId}/rotate-secret`);
    expectJsonError(rotate, 400, 'invalid_request');
    expect((rotate.body as { error_description: string }).error_description).toMatch(/no secret/);
    const last = await server.admin('delete', `/clients/${clientId}/keys/${first!.keyid}`);
    expectJsonError(last, 409, 'conflict');
    expect((last.body as { error_description: string }).error_description).toMatch(/last public key/);
    const second = (await addKey(clientId, { public_key: partnerKey('p256').pem })).body as KeyJson;
    expect((await server.admin('delete', `/clients/${clientId}/keys/${first!.keyid}`)).status).toBe(200);
    expect((await listKeys(clientId)).map((key) => key.keyid)).toEqual([second.keyid]);
  });

  it.each([
    ['private_key_jwt without a key', { auth_method: 'private_key_jwt' }, /needs its first public key/],
    ['tls_client_auth without a subject', { auth_method: 'tls_client_auth' }, /needs the subject its certificate/],
    ['self_signed_tls_client_auth without a key', { auth_method: 'self_signed_tls_client_auth' }, /first public key/],
    [
      'client_secret_jwt',
      { auth_method: 'client_secret_jwt' },
      /not offered; choose client_secret_basic, private_key_jwt, tls_client_auth, self_signed_tls_client_auth/,
    ],
    [
      'a public private_key_jwt client',
      { auth_method: 'private_key_jwt', public: true },
      /public client has no credentials/,
    ],
    ['garbage for a key', { auth_method: 'private_key_jwt', public_key: 'PUBLIC KEY' }, /^public_key /],
    ['an RSA 1024 key', { auth_method: 'private_key_jwt', public_key: refusedKeys()[0]!.text }, /2048/],
    ['a key for a client_secret_basic client', { public_key: partnerKey('ed25519').pem }, /private_key_jwt/],
  ])('refuses %s readably, creating nothing', async (_what, fields, says) => {
    const name = unique('refused-');
    const response = await server.admin('post', '/clients', { name, grant_types: ['client_credentials'], ...fields });
    expectJsonError(response, 400, 'invalid_request');
    expect((response.body as { error_description: string }).error_description).toMatch(says);
    const all = (await server.admin('get', '/clients')).body as { name: string }[];
    expect(all.some((client) => client.name === name)).toBe(false);
  });
});
