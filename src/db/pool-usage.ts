import type { Knex } from 'knex';

interface TarnPool {
  numUsed(): number;
  numPendingAcquires(): number;
  on(event: 'acquireRequest', listener: (eventId: number) => void): void;
  on(event: 'acquireSuccess' | 'acquireFail', listener: (eventId: number) => void): void;
}

/**
 * knex's tarn pool: ten connections on PostgreSQL, PGlite's one connection on
 * the embedded database (there, waits show queries queueing for the single-user database).
 * Undefined if a dialect ever brings none.
 */
function tarnPool(db: Knex): TarnPool | undefined {
  const pool = (db.client as { pool?: Partial<TarnPool> }).pool;
  if (typeof pool?.numUsed !== 'function' || typeof pool.numPendingAcquires !== 'function') return undefined;
  if (typeof pool.on !== 'function') return undefined;
  return pool as TarnPool;
}

/** Connections in use and queries waiting for one; undefined without a pool. */
export function poolUsage(db: Knex): { inUse: number; pending: number } | undefined {
  const pool = tarnPool(db);
  return pool && { inUse: pool.numUsed(), pending: pool.numPendingAcquires() };
}

/**
 * Reports how long each query waited for a connection of the pool, in seconds — a free
 * connection is a wait of microseconds; a saturated pool shows as the tail growing towards
 * knex's acquire timeout (a failed acquire reports the time it waited too). Read from tarn's own
 * acquire events, which knex's pool emits with one id per acquire; nothing is added to the query
 * path but two map operations.
 */
export function watchPoolWaits(db: Knex, observe: (seconds: number) => void): void {
  const pool = tarnPool(db);
  if (!pool) return;
  const started = new Map<number, bigint>();
  pool.on('acquireRequest', (eventId) => {
    started.set(eventId, process.hrtime.bigint());
  });
  const settle = (eventId: number) => {
    const start = started.get(eventId);
    if (start === undefined) return;
    started.delete(eventId);
    observe(Number(process.hrtime.bigint() - start) / 1e9);
  };
  pool.on('acquireSuccess', settle);
  pool.on('acquireFail', settle);
}
