import type { Knex } from 'knex';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { objectsWithMember } from '../helpers/storage.js';

// The embedded database's lock: test/db/data-dir-lock.test.ts; migrations: test/db/migrations.test.ts.

/** Every row of every table of the database, as text. */
async function dumpDatabase(knex: Knex): Promise<{ text: string; tables: Record<string, unknown[]> }> {
  const tableRows: { table_name: string }[] = await knex('information_schema.tables')
    .select('table_name')
    .whereRaw('table_schema = current_schema()')
    .andWhere('table_type', 'BASE TABLE');
  const tables: Record<string, unknown[]> = {};
  for (const { table_name: table } of tableRows) tables[table] = await knex(table).select();
  return { text: JSON.stringify(tables), tables };
}

describe('secrets at rest', () => {
  let server: TestServer;
  let api: ApiFixture;
  let client: ClientFixture;
  let accessToken: string;

  beforeAll(async () => {
    server = await startServer();
    api = await createApi(server);
    client = await createServiceClient(server, [api.scopes[0]!]);
    const config = await oidc.discovery(
      new URL(server.issuer),
      client.client_id,
      undefined,
      oidc.ClientSecretBasic(client.client_secret),
      { execute: [oidc.allowInsecureRequests] },
    );
    accessToken = (await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! })).access_token;
  });

  afterAll(() => server?.close());

  it('stores neither the client secret, the admin token nor issued access tokens', async () => {
    const { text, tables } = await dumpDatabase(server.tollgate.database.knex);
    expect(Object.keys(tables)).toEqual(expect.arrayContaining(['clients', 'signing_keys', 'schema_migrations']));
    expect(text).toContain(client.client_id);
    expect(text).not.toContain(client.client_secret);
    expect(text).not.toContain(client.client_secret.replace(/^tgs_/, ''));
    expect(text).not.toContain(server.adminToken);
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(accessToken.split('.')[2]!);
  });

  it('keeps user passwords only as slow hashes', async () => {
    const password = `pw-${unique('')}-Correct-Horse`;
    const created = await server.admin('post', '/users', { username: unique('stored-'), password });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(password);
    const { text } = await dumpDatabase(server.tollgate.database.knex);
    expect(text).toContain(created.body.id as string);
    expect(text).not.toContain(password);
    const row = await server.tollgate.database.knex('users').where({ id: created.body.id }).first();
    expect(row.password_hash).toMatch(/^scrypt\$/);
  });

  it('keeps only a hash of the client secret', async () => {
    const row = await server.tollgate.database.knex('clients').where({ id: client.client_id }).first();
    expect(row.secret_hash).toEqual(expect.any(String));
    expect(row.secret_hash).not.toBe(client.client_secret);
    expect(row.secret_hash).toMatch(/^sha256:/);
  });

  it('stores no private key material in the clear', async () => {
    const { text, tables } = await dumpDatabase(server.tollgate.database.knex);
    // No JWK anywhere carries a private member.
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      expect(objectsWithMember(tables, member), `an object with "${member}" is stored`).toEqual([]);
    }
    // Nor does the private scalar of any signing key this server holds appear in any form.
    const privateKeys = server.tollgate.keyRing.snapshot.providerJwks();
    expect(privateKeys.length).toBeGreaterThan(0);
    for (const jwk of privateKeys) {
      expect(jwk.d).toEqual(expect.any(String));
      expect(text).not.toContain(jwk.d);
    }
    // Private keys and server secrets are sealed.
    const keys = tables.signing_keys as { kid: string; private_jwk_sealed: string }[];
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.private_jwk_sealed, key.kid).toMatch(/^v1\./);
    for (const secret of (tables.server_secrets ?? []) as { name: string; sealed: string }[]) {
      expect(secret.sealed, secret.name).toMatch(/^v1\./);
    }
  });

  it('does not accept the stored hash as the secret', async () => {
    const row = await server.tollgate.database.knex('clients').where({ id: client.client_id }).first();
    const hash = row.secret_hash as string;
    for (const presented of [hash, hash.replace(/^sha256:/, '')]) {
      const basic = await server
        .public()
        .post('/token')
        .auth(client.client_id, presented)
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(basic.status).toBe(401);
      expect(basic.body.error).toBe('invalid_client');
      const posted = await server
        .public()
        .post('/token')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: presented });
      expect(posted.status).toBe(401);
      expect(posted.body.error).toBe('invalid_client');
    }
    // The real secret still works, so the refusals above are about the value presented.
    const good = await server
      .public()
      .post('/token')
      .auth(client.client_id, client.client_secret)
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(good.status).toBe(200);
  });
});
