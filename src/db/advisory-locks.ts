import type { Knex } from 'knex';

/**
 * Every PostgreSQL advisory lock Tollgate takes, by name. The numbers are arbitrary but must NEVER
 * change or be reused for something else: during a rolling upgrade, instances of an older version
 * run against the same database and take these same numbers, and a renumbered lock would let two
 * versions migrate, rotate keys or generate a server secret at once. Add new locks with new numbers.
 */
export const ADVISORY_LOCKS = {
  /** Applying migrations (src/db/migrate.ts). */
  migrations: 7_411_001,
  /** Changing the signing-key ring (src/keys/key-ring.ts). */
  keyRing: 7_411_002,
  /** Generating a shared server secret the first time (src/keys/server-secrets.ts). */
  serverSecrets: 7_411_003,
} as const;

export type AdvisoryLockName = keyof typeof ADVISORY_LOCKS;

/**
 * Waits for the named lock, held until `trx` commits or rolls back (pg_advisory_xact_lock), so it
 * cannot leak past the transaction whatever path the code takes out of it.
 */
export async function lockForTransaction(trx: Knex.Transaction, name: AdvisoryLockName): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?)', [ADVISORY_LOCKS[name]]);
}
