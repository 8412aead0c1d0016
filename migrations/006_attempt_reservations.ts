import type { Knex } from 'knex';

/**
 * Sign-in and device-code attempts are reserved before they are checked (one atomic statement
 * per key), so concurrent attempts cannot exceed a limit. Each row keeps the times of the recent
 * attempts counted against one key — a hash of (username, client address), of the address alone,
 * or of the username alone — so a limit holds over any 15 minutes, not per fixed window.
 * It replaces sign_in_failures, whose check and record were separate statements; the failures it
 * held expire within 15 minutes anyway, so they are not carried over.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE attempt_reservations (
      key         text          PRIMARY KEY,
      reserved_at timestamptz[] NOT NULL,
      last_at     timestamptz   NOT NULL
    )`);
  await db.raw('CREATE INDEX attempt_reservations_last_at ON attempt_reservations (last_at)');
  await db.raw('DROP TABLE sign_in_failures');
}
