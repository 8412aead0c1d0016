import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, TEST_DATABASE_URL, unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * A database whose default collation is not "C": ICU en-US, as the official postgres image's
 * default (en_US.utf8) is in effect. There `ORDER BY kid` sorts case-insensitively ("a" < "B"),
 * while JavaScript compares UTF-16 code units ("B" < "a"), so a fingerprint sorted once by each
 * never matched. Created and dropped here, on TEST_DATABASE_URL's server.
 */
async function icuDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = unique('tollgate_icu_');
  const run = async (sql: string) => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' TEMPLATE template0`);
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

describe.skipIf(!onPostgres)('the key ring on a database with an ICU collation', () => {
  let database: Awaited<ReturnType<typeof icuDatabase>>;
  let server: TestServer;

  beforeAll(async () => {
    database = await icuDatabase();
    server = await startServer({ env: { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('orders text differently from JavaScript (the premise of this test)', async () => {
    const { rows } = await server.tollgate.database.knex.raw("SELECT 'B' < 'a' AS upper_first");
    expect(rows[0].upper_first).toBe(false);
    expect('B' < 'a').toBe(true);
  });

  it('reports no change when nothing changed, and keeps its provider', async () => {
    const provider = server.tollgate.provider;
    expect(await server.tollgate.keyRing.changed()).toBe(false);
    expect(await server.tollgate.maintainKeys()).toBe(false);
    expect(await server.tollgate.maintainKeys()).toBe(false);
    expect(server.tollgate.provider).toBe(provider);
    expect(server.logs.join('')).not.toContain('signing keys changed');
  });

  it('still sees a change made by another instance', async () => {
    const provider = server.tollgate.provider;
    await server.tollgate.database.knex('signing_keys').where({ state: 'previous' }).delete();
    const next = server.tollgate.keyRing.list().find((key) => key.state === 'next')!;
    await server.tollgate.database
      .knex('signing_keys')
      .where({ kid: next.kid })
      .update({ state: 'previous', remove_after: new Date(Date.now() + 3600_000) });
    expect(await server.tollgate.maintainKeys()).toBe(true);
    expect(server.tollgate.provider).not.toBe(provider);
    expect(await server.tollgate.maintainKeys()).toBe(false);
  });
});
