import knexFactory from 'knex';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';
import { migrate } from '../../src/db/migrate.js';
import { isolatedPostgres, onPostgres } from '../helpers/database.js';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

describe('advisory lock ids', () => {
  it('are the numbers earlier versions take, each used for one thing', () => {
    // Pinned: instances of an older version, running against the same database during a rolling
    // upgrade, take exactly these numbers.
    expect(ADVISORY_LOCKS).toEqual({ migrations: 7_411_001, keyRing: 7_411_002, serverSecrets: 7_411_003 });
    expect(new Set(Object.values(ADVISORY_LOCKS)).size).toBe(Object.keys(ADVISORY_LOCKS).length);
  });

  it('are taken only through src/db/advisory-locks.ts', () => {
    const elsewhere = sourceFilesOfSrc()
      .filter(({ file, text }) => file !== 'db/advisory-locks.ts' && /pg_(try_)?advisory/.test(text))
      .map(({ file }) => file);
    expect(elsewhere).toEqual([]);
  });

  it.runIf(onPostgres)(
    'make a migration wait while an older instance holds the migration lock by its number',
    async () => {
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
    },
    30_000,
  );
});
