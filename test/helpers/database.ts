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
