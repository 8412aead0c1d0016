import crypto from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL, onPostgres, unique } from '../helpers/database.js';
import { startServer } from '../helpers/server.js';
import { objectsWithMember, tempDir } from '../helpers/storage.js';

const migrationNames = migrations.map((migration) => migration.name);

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

  // The shared database as a server leaves it (the last test relies on it): whichever test file
  // runs first, it is migrated before these tests start.
  beforeAll(async () => {
    if (onPostgres) await (await startServer()).close();
  });

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
    // 013: the rate-limit counters stay out of the write-ahead log; everything else is logged.
    const persistence: { relname: string; relpersistence: string }[] = (
      await knex.raw(
        `SELECT relname, relpersistence FROM pg_class
          WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace ORDER BY relname`,
      )
    ).rows;
    expect(persistence.filter((table) => table.relpersistence === 'u').map((table) => table.relname)).toEqual([
      'rate_limits',
    ]);
  }, 90_000);

  it('011 gives existing clients their authentication method, and keeps each method to its credentials', async () => {
    let knex: Knex;
    if (onPostgres) {
      knex = postgresIn(await freshSchema());
    } else {
      const database = await openDatabase({ databaseUrl: undefined, dataDir: tempDir() });
      databases.push(database);
      knex = database.knex;
    }
    const before011 = migrations.slice(
      0,
      migrations.findIndex((migration) => migration.name === '011_client_keys'),
    );
    await migrate(knex, before011);
    const client = (id: string, secretHash: string | null) => ({
      id,
      name: id,
      secret_hash: secretHash,
      is_public: secretHash === null,
      grant_types: ['client_credentials'],
    });
    await knex('clients').insert([client('client_secret', 'sha256:abc'), client('client_public', null)]);

    expect(await migrate(knex)).toEqual(['011_client_keys', ...migrationNames.slice(before011.length + 1)]);
    const rows: { id: string; auth_method: string }[] = await knex('clients').select('id', 'auth_method').orderBy('id');
    expect(rows).toEqual([
      { id: 'client_public', auth_method: 'none' },
      { id: 'client_secret', auth_method: 'client_secret_basic' },
    ]);
    // A private_key_jwt client has no secret; a secret client has one; a public client neither.
    await knex('clients').insert({ ...client('client_jwt', null), is_public: false, auth_method: 'private_key_jwt' });
    for (const refused of [
      { ...client('client_jwt_secret', 'sha256:abc'), auth_method: 'private_key_jwt' },
      { ...client('client_no_secret', null), is_public: false },
      { ...client('client_public_jwt', null), auth_method: 'private_key_jwt' },
    ])
      await expect(knex('clients').insert(refused)).rejects.toThrow(/clients_credentials_check/);
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
