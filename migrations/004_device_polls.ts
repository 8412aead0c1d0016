import type { Knex } from 'knex';

/** When each device code last polled and at what interval it must (RFC 8628 §3.5 slow_down). */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE device_polls (
      code_hash        text        PRIMARY KEY,
      interval_seconds integer     NOT NULL,
      last_poll_at     timestamptz NOT NULL
    )`);
  await db.raw('CREATE INDEX device_polls_last_poll_at ON device_polls (last_poll_at)');
}
