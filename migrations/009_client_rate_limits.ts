import type { Knex } from 'knex';

/**
 * A client's own bound on its token requests (`clients create|update --rate-limit`), as the
 * operator wrote it ("10/s", "600/min", "20/5min"; src/lib/rate.ts); NULL: not limited.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE clients ADD COLUMN rate_limit varchar(32)');
}
