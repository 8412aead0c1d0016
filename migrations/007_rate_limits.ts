import type { Knex } from 'knex';

/**
 * Counters of the rate limits shared by every instance (src/limits/rate-limit.ts). The shape is
 * rate-limiter-flexible's own PostgreSQL table — key = "<limit>:<subject>", points counted in the
 * window, expire = the window's end in epoch milliseconds — created here so it is part of the
 * migration history instead of a CREATE TABLE the library would run at every start.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE rate_limits (
      key    varchar(255) PRIMARY KEY,
      points integer      NOT NULL DEFAULT 0,
      expire bigint
    )`);
  await db.raw('CREATE INDEX rate_limits_expire ON rate_limits (expire)');
}
