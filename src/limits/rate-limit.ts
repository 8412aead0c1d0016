import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { knexStoreClient } from './knex-store-client.js';
import type { Rate } from '../lib/rate.js';

/** Where every limit keeps its counters (migration 007_rate_limits), one row per limit and key. */
export const RATE_LIMITS_TABLE = 'rate_limits';

/** Counters are kept this long after their window ends, then swept. */
const SWEEP_GRACE_MS = 60_000;

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A fixed-window limit shared by every instance on one database: each `take` counts one request
 * for a key in a single upsert (rate-limiter-flexible's `INSERT … ON CONFLICT … RETURNING`), so
 * concurrent requests on any instance cannot slip past it. A well-kept library rather than a
 * hand-written counter; its PostgreSQL store runs through knex here (knex-store-client.ts), so
 * the embedded database gets the same limits. `name` separates limits in the one table: the
 * anonymous-request limit today, a per-client token endpoint limit later.
 */
export class RateLimit {
  readonly #limiter: RateLimiterPostgres;

  constructor(
    private readonly db: Knex,
    readonly name: string,
    readonly rate: Rate,
  ) {
    this.#limiter = new RateLimiterPostgres({
      storeClient: knexStoreClient(db),
      storeType: 'client',
      tableName: RATE_LIMITS_TABLE,
      // Created by the migration; the library's own CREATE TABLE at start would race other
      // instances' migrations and bypass the migration history.
      tableCreated: true,
      // Tollgate's sweeper deletes old counters (sweep()); the library's own timer would keep
      // running against a closed pool after shutdown.
      clearExpiredByTimeout: false,
      keyPrefix: name,
      points: rate.points,
      duration: rate.durationSeconds,
      // Every request reaches the database: a per-process cache would let each instance allow
      // its own share beyond the limit.
      inMemoryBlockOnConsumed: 0,
    });
  }

  /** Counts one request for `key`; beyond the limit, how long until the window ends. */
  async take(key: string): Promise<RateVerdict> {
    try {
      await this.#limiter.consume(key);
      return { allowed: true };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
    }
  }

  /** Deletes this limit's counters whose window has ended; returns how many. */
  async sweep(): Promise<number> {
    return affectedRows(
      await this.db(RATE_LIMITS_TABLE)
        .where('key', 'like', `${this.name}:%`)
        .andWhere('expire', '<', Date.now() - SWEEP_GRACE_MS)
        .delete(),
    );
  }
}
