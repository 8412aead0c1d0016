import type { Knex } from 'knex';
import { migrations as allMigrations, type Migration } from '../../migrations/index.js';
import { lockForTransaction } from './advisory-locks.js';

/**
 * Applies pending migrations in one transaction under a PostgreSQL advisory lock, so instances
 * starting together take turns and the later ones find nothing left to do. One connection
 * suffices, which is all PGlite has.
 */
export async function migrate(knex: Knex, migrations: Migration[] = allMigrations): Promise<string[]> {
  return knex.transaction(async (trx) => {
    await lockForTransaction(trx, 'migrations');
    await trx.raw(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await trx('schema_migrations').select('name')).map((row: { name: string }) => row.name));
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...done].filter((name) => !known.has(name));
    if (unknown.length) {
      throw new Error(
        `the database has migrations this version of Tollgate does not know (${unknown.join(', ')}): it was migrated by a newer version`,
      );
    }
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await migration.up(trx);
      await trx('schema_migrations').insert({ name: migration.name });
      applied.push(migration.name);
    }
    return applied;
  });
}
