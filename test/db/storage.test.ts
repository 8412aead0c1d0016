import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL, onPostgres, unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

const migrationNames = migrations.map((migration) => migration.name);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-storage-'));
}

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

/** Every object (at any depth, JSON text included) that has a member of this name. */
function objectsWithMember(value: unknown, member: string, found: object[] = []): object[] {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        objectsWithMember(JSON.parse(text), member, found);
      } catch {
        // Not JSON after all.
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) objectsWithMember(item, member, found);
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    if (Object.hasOwn(value, member)) found.push(value);
    for (const item of Object.values(value)) objectsWithMember(item, member, found);
  }
  return found;
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

describe('data directory lock (embedded database)', () => {
  const opened: Database[] = [];
  const children: ChildProcess[] = [];

  async function open(dataDir: string): Promise<Database> {
    const database = await openDatabase({ databaseUrl: undefined, dataDir });
    opened.push(database);
    return database;
  }

  afterAll(async () => {
    for (const child of children) child.kill();
    for (const database of opened) await database.close().catch(() => undefined);
  });

  it.skipIf(onPostgres)('refuses a second open of a data directory that is in use', async () => {
    // Two PGlite instances on the same files corrupt them, whether in two processes or in one.
    const dataDir = tempDir();
    await open(dataDir);
    await expect(open(dataDir)).rejects.toThrow(DataDirLockedError);
  });

  it.skipIf(onPostgres)('refuses a data directory locked by another running process, naming it', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    expect(child.pid).toEqual(expect.any(Number));
    fs.writeFileSync(path.join(dataDir, 'tollgate.lock'), `${child.pid}\n`);
    let failure: unknown;
    try {
      await open(dataDir);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(DataDirLockedError);
    expect((failure as Error).message).toContain('another Tollgate process');
    expect((failure as Error).message).toContain(String(child.pid));
    // The holder's lock is left alone.
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(child.pid));
  });

  it.skipIf(onPostgres)('can be opened again once closed', async () => {
    const dataDir = tempDir();
    const first = await open(dataDir);
    await first.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
    const second = await open(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
    await second.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
  });

  it.skipIf(onPostgres)('takes over a stale lock left by a process that no longer runs', async () => {
    const dataDir = tempDir();
    let deadPid = 999_999;
    const running = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    };
    while (running(deadPid)) deadPid += 1;
    fs.writeFileSync(path.join(dataDir, 'tollgate.lock'), `${deadPid}\n`);
    const database = await open(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
    await database.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
  });

  it.skipIf(onPostgres)('creates the database on first open, leaving only the finished cluster behind', async () => {
    const dataDir = tempDir();
    // What a first start killed during initdb leaves: a scratch copy, never a half-made pgdata.
    fs.mkdirSync(path.join(dataDir, 'pgdata.initdb-424242', 'base'), { recursive: true });
    const database = await open(dataDir);
    expect((await database.knex.raw('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(fs.readdirSync(dataDir).sort()).toEqual(['pgdata', 'tollgate.lock']);
    await database.close();
  });

  it.skipIf(onPostgres)(
    'refuses a pgdata directory that holds files but no database, and releases the lock',
    async () => {
      const dataDir = tempDir();
      fs.mkdirSync(path.join(dataDir, 'pgdata'));
      fs.writeFileSync(path.join(dataDir, 'pgdata', 'notes.txt'), 'not a database\n');
      await expect(open(dataDir)).rejects.toThrow(/pgdata is not empty but holds no database/);
      expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
      expect(fs.readFileSync(path.join(dataDir, 'pgdata', 'notes.txt'), 'utf8')).toBe('not a database\n');
    },
  );
});

describe('migrations', () => {
  /** Fresh, empty schemas on the shared PostgreSQL; dropped afterwards. Never the shared tables. */
  const schemas: string[] = [];
  const connections: Knex[] = [];
  const databases: Database[] = [];

  function postgresIn(schema: string): Knex {
    const knex = knexFactory({
      client: 'pg',
      connection: TEST_DATABASE_URL,
      searchPath: [schema],
      pool: { min: 0, max: 2 },
    });
    connections.push(knex);
    return knex;
  }

  async function freshSchema(): Promise<string> {
    const schema = unique('tg_migrate_').toLowerCase();
    const admin = postgresIn('public');
    await admin.raw('CREATE SCHEMA ??', [schema]);
    schemas.push(schema);
    return schema;
  }

  afterAll(async () => {
    if (schemas.length) {
      const admin = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL });
      for (const schema of schemas) await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await admin.destroy();
    }
    await Promise.all(connections.map((knex) => knex.destroy()));
    for (const database of databases) await database.close();
  });

  async function expectEachMigrationOnce(knex: Knex): Promise<void> {
    const rows: { name: string }[] = await knex('schema_migrations').select('name').orderBy('name');
    expect(rows.map((row) => row.name)).toEqual([...migrationNames].sort());
  }

  it('applies every migration once; a second run is a no-op', async () => {
    let knex: Knex;
    if (onPostgres) {
      knex = postgresIn(await freshSchema());
    } else {
      const database = await openDatabase({ databaseUrl: undefined, dataDir: tempDir() });
      databases.push(database);
      knex = database.knex;
    }
    expect(await migrate(knex)).toEqual(migrationNames);
    expect(await migrate(knex)).toEqual([]);
    await expectEachMigrationOnce(knex);
    const tables: { table_name: string }[] = await knex('information_schema.tables')
      .select('table_name')
      .whereRaw('table_schema = current_schema()');
    expect(tables.map((table) => table.table_name)).toEqual(
      expect.arrayContaining(['clients', 'apis', 'signing_keys', 'oidc_payloads']),
    );
  }, 90_000);

  it('005 rewrites artefacts of the old format: digests for ids, no jti or user code, interactions dropped; once', async () => {
    let knex: Knex;
    if (onPostgres) {
      knex = postgresIn(await freshSchema());
    } else {
      const database = await openDatabase({ databaseUrl: undefined, dataDir: tempDir() });
      databases.push(database);
      knex = database.knex;
    }
    const before005 = migrations.slice(
      0,
      migrations.findIndex((migration) => migration.name === '005_hashed_payload_ids'),
    );
    await migrate(knex, before005);
    const raw = (label: string) => `${label}${'x'.repeat(43 - label.length)}`;
    const ids = {
      refresh: raw('refresh'),
      device: raw('device'),
      session: raw('session'),
      interaction: raw('interaction'),
      grant: raw('grant'),
    };
    const exp = Math.floor(Date.now() / 1000) + 600;
    const row = (
      kind: string,
      id: string,
      payload: Record<string, unknown>,
      columns: Record<string, unknown> = {},
    ) => ({
      kind,
      id,
      payload: JSON.stringify({ ...payload, jti: id, kind, exp }),
      expires_at: new Date(exp * 1000),
      ...columns,
    });
    await knex('oidc_payloads').insert([
      row(
        'RefreshToken',
        ids.refresh,
        { grantId: ids.grant, accountId: 'u1', clientId: 'c1' },
        { grant_id: ids.grant },
      ),
      row('DeviceCode', ids.device, { userCode: 'BCDFGHJK', clientId: 'c1' }, { user_code: 'BCDFGHJK' }),
      row('Session', ids.session, { uid: 'session-uid', accountId: 'u1' }, { uid: 'session-uid' }),
      row('Interaction', ids.interaction, { returnTo: `/auth/${ids.interaction}`, session: { cookie: ids.session } }),
      row('Grant', ids.grant, { accountId: 'u1', clientId: 'c1' }),
    ]);

    expect(await migrate(knex)).toEqual(['005_hashed_payload_ids', ...migrationNames.slice(before005.length + 1)]);
    const rows: {
      kind: string;
      id: string;
      payload: unknown;
      user_code: string | null;
      uid: string | null;
      grant_id: string | null;
    }[] = await knex('oidc_payloads').select().orderBy('kind');
    const text = JSON.stringify(rows);
    for (const secret of [ids.refresh, ids.device, ids.session, ids.interaction, 'BCDFGHJK'])
      expect(text).not.toContain(secret);
    const byKind = Object.fromEntries(rows.map((stored) => [stored.kind, stored]));
    expect(Object.keys(byKind).sort()).toEqual(['DeviceCode', 'Grant', 'RefreshToken', 'Session']);
    expect(byKind.RefreshToken!.id).toBe(crypto.hash('sha256', ids.refresh, 'base64url'));
    expect(byKind.RefreshToken!.grant_id).toBe(ids.grant);
    expect(byKind.Session!.id).toBe(crypto.hash('sha256', ids.session, 'base64url'));
    expect(byKind.Session!.uid).toBe('session-uid');
    expect(byKind.DeviceCode!.user_code).toBeNull();
    expect(byKind.Grant!.id).toBe(ids.grant); // grant ids are no bearer secrets: kept, so grant_id still joins
    expect(objectsWithMember(rows, 'jti').filter((payload) => (payload as { kind?: string }).kind !== 'Grant')).toEqual(
      [],
    );
    // Who the rows belong to is still readable, for deleting a user's or a client's artefacts.
    expect(await knex('oidc_payloads').whereRaw("payload->>'accountId' = ?", ['u1']).count({ n: '*' })).toEqual([
      { n: onPostgres ? '3' : 3 },
    ]);

    // Run again (as after a restore of the migrations table): nothing changes.
    await migrations.find((migration) => migration.name === '005_hashed_payload_ids')!.up(knex);
    expect(JSON.stringify(await knex('oidc_payloads').select().orderBy('kind'))).toBe(text);
  }, 90_000);

  it.skipIf(!onPostgres)('three instances migrating at once take turns', async () => {
    const schema = await freshSchema();
    const instances = [postgresIn(schema), postgresIn(schema), postgresIn(schema)];
    const results = await Promise.all(instances.map((knex) => migrate(knex)));
    expect(results.flat().sort()).toEqual([...migrationNames].sort());
    expect(results.filter((applied) => applied.length === 0)).toHaveLength(2);
    await expectEachMigrationOnce(instances[0]!);
  });

  it.skipIf(!onPostgres)('is a no-op on the shared, already migrated database', async () => {
    const knex = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
    connections.push(knex);
    expect(await migrate(knex)).toEqual([]);
    await expectEachMigrationOnce(knex);
  });
});
