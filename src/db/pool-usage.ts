import type { Knex } from 'knex';

interface TarnPool {
  numUsed(): number;
  numPendingAcquires(): number;
}

/** Connections in use and queries waiting for one; undefined without a pool (the embedded database). */
export function poolUsage(db: Knex): { inUse: number; pending: number } | undefined {
  const pool = (db.client as { pool?: Partial<TarnPool> }).pool;
  if (typeof pool?.numUsed !== 'function' || typeof pool.numPendingAcquires !== 'function') return undefined;
  return { inUse: pool.numUsed(), pending: pool.numPendingAcquires() };
}
