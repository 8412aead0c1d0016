import type { Knex } from 'knex';

/**
 * Rate-limit counters live a window (seconds to a day) and are rewritten on every counted
 * request, lease or failed authentication: UNLOGGED keeps them out of the write-ahead log, so
 * counting no longer waits for a WAL flush to disk. A refused API-key question cost about 3× a
 * valid one, all of it that durable write (bench/results/2026-12-07-api-keys.md). What UNLOGGED
 * gives up is fine for counters and nothing else: after a crash PostgreSQL empties the table
 * (every window starts again), and standbys do not have it (after a failover likewise).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE rate_limits SET UNLOGGED');
}
