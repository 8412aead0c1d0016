import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';
import { migrate } from '../../src/db/migrate.js';
import { isolatedPostgres, onPostgres } from '../helpers/database.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('advisory lock ids', () => {
  it('are the numbers earlier versions take, each used for one thing', () => {
    // Pinned: instances of an older version, running against the same database during a rolling
    // upgrade, take exactly these numbers.
    expect(ADVISORY_LOCKS).toEqual({ migrations: 7_411_001, keyRing: 7_411_002, serverSecrets: 7_411_003 });
    expect(new Set(Object.values(ADVISORY_LOCKS)).size).toBe(Object.keys(ADVISORY_LOCKS).length);
  });

  it('are taken only through src/db/advisory-locks.ts', () => {
    const elsewhere = sourceFiles(SRC)
      .filter((file) => file !== path.join(SRC, 'db/advisory-locks.ts'))
      .filter((file) => /pg_(try_)?advisory/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(SRC, file));
    expect(elsewhere).toEqual([]);
  });

  it.runIf(onPostgres)('make a migration wait while an older instance holds the migration lock by its number', async () => {
    const database = (await isolatedPostgres())!;
    const older = new pg.Client({ connectionString: database.url });
    const knex = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 2 } });
    try {
      await older.connect();
      await older.query('BEGIN');
      await older.query('SELECT pg_advisory_xact_lock(7411001)');
      let finished = false;
      const migrating = migrate(knex).then((applied) => {
        finished = true;
        return applied;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(finished).toBe(false);
      await older.query('COMMIT');
      expect((await migrating).length).toBeGreaterThan(0);
    } finally {
      await older.end().catch(() => {});
      await knex.destroy();
      await database.drop();
    }
  }, 30_000);
});
