/**
 * Tests run on the embedded database by default (a fresh PGlite per test file) and against a
 * real PostgreSQL when TEST_DATABASE_URL is set, where test files share one database: names
 * they create are therefore made unique.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const onPostgres = TEST_DATABASE_URL !== undefined;

/** Fixed so every test file sharing a PostgreSQL opens the same sealed key ring. */
export const TEST_KEY_ENCRYPTION_KEY = 'dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM';

export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A PostgreSQL database of the test's own, for tests that change what every other test file
 * relies on (the signing-key ring). Undefined on the embedded database, where each file has its own.
 */
export async function isolatedPostgres(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const { default: pg } = await import('pg');
  const name = unique('tollgate_isolated_');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
