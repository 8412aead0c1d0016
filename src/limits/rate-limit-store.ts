import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { affectedRows } from '../db/affected-rows.js';
import { RepeatedLog } from '../lib/repeated-log.js';
import type { Rate } from '../lib/rate.js';
import type { Logger } from '../log.js';
import { knexStoreClient } from './knex-store-client.js';
import { databaseNonceStore, redisNonceStore, type NonceStore } from './nonce-store.js';
import { checkInMemoryBlocks, leaseSize, RateLimit } from './rate-limit.js';

/** Where the database store keeps counters (migration 007_rate_limits), one row per limit and key. */
export const RATE_LIMITS_TABLE = 'rate_limits';

/** Counters are kept this long after their window ends, then swept. */
const SWEEP_GRACE_MS = 60_000;

/** A Redis command that takes longer fails (and the limit lets the request through): never a hung request. */
const REDIS_COMMAND_TIMEOUT_MS = 500;
/** How long a start waits for Redis before serving without it (limits fail open until it answers). */
const REDIS_CONNECT_WAIT_MS = 2_000;

export interface LimitOptions {
  /**
   * Remember in this process's memory, until its window ends, a key that reached the limit, so
   * `RateLimit.blocked` answers without a store round trip (the client-authentication failure
   * limit, checked on every request but counted only on failures).
   */
  blockInMemory?: boolean;
  /**
   * Take points from the store in leases (rate-limit.ts, leaseSize): a busy key costs a round trip
   * per lease, not per request (the per-client token endpoint limit, checked on every token).
   */
  lease?: boolean;
}

/** Where every limit keeps its counters: the one place that decides between the database and Redis. */
export interface RateLimitStore {
  readonly kind: 'database' | 'redis';
  /** A limit named `name` (keys `<name>:<subject>`); limits of one name share their counters. */
  limit(name: string, rate: Rate, options?: LimitOptions): RateLimit;
  /**
   * The nonces of signed requests, in the same place as the counters (and on the same Redis
   * connection). Unlike the limits, it fails closed: see NonceStore.
   */
  readonly nonces: NonceStore;
  /** Deletes counters whose window has ended (the database store; Redis expires its keys itself). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export interface RateLimitStoreOptions {
  db: Knex;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  logger: Logger;
}

function commonOptions(name: string, rate: Rate, options: LimitOptions) {
  return {
    keyPrefix: name,
    points: rate.points,
    duration: rate.durationSeconds,
    // Otherwise every request reaches the store: a per-process cache of counts would let each
    // instance allow its own share beyond the limit. A block remembered in memory only refuses
    // what the shared counter already refused: with inMemoryBlockDuration 0, the library keeps
    // a key that reached `points` blocked until its window ends.
    inMemoryBlockOnConsumed: options.blockInMemory ? rate.points : 0,
    inMemoryBlockDuration: 0,
  };
}

/**
 * REDIS_URL set: counters in Redis (one INCR with expiry per request, keys expire by themselves).
 * Unset: in the database every instance already shares (PostgreSQL or the embedded PGlite).
 */
export async function openRateLimitStore(options: RateLimitStoreOptions): Promise<RateLimitStore> {
  const log = new RepeatedLog(options.logger);
  return options.redisUrl
    ? redisStore(options.redisUrl, options.redisKeyPrefix, log, options.logger)
    : databaseStore(options.db, log);
}

function made(
  limiter: RateLimiterStoreAbstract,
  name: string,
  rate: Rate,
  options: LimitOptions,
  log: RepeatedLog,
): RateLimit {
  checkInMemoryBlocks(limiter);
  return new RateLimit(name, rate, limiter, log, options.lease ? leaseSize(rate) : 1);
}

function databaseStore(db: Knex, log: RepeatedLog): RateLimitStore {
  const storeClient = knexStoreClient(db);
  return {
    kind: 'database',
    nonces: databaseNonceStore(db),
    limit(name, rate, options = {}) {
      const limiter = new RateLimiterPostgres({
        ...commonOptions(name, rate, options),
        storeClient,
        storeType: 'client',
        tableName: RATE_LIMITS_TABLE,
        // Created by the migration; the library's own CREATE TABLE at start would race other
        // instances' migrations and bypass the migration history.
        tableCreated: true,
        // Tollgate's sweeper deletes old counters (sweep()); the library's own timer would keep
        // running against a closed pool after shutdown.
        clearExpiredByTimeout: false,
      });
      return made(limiter, name, rate, options, log);
    },
    async sweep() {
      return affectedRows(
        await db(RATE_LIMITS_TABLE)
          .where('expire', '<', Date.now() - SWEEP_GRACE_MS)
          .delete(),
      );
    },
    async close() {
      // The database is closed by its owner (tollgate.ts).
    },
  };
}

async function redisStore(url: string, keyPrefix: string, log: RepeatedLog, logger: Logger): Promise<RateLimitStore> {
  const redis = new Redis(url, {
    keyPrefix,
    // Shown by CLIENT LIST, so an operator sees whose connection it is (a name has no spaces).
    connectionName: keyPrefix.replace(/[^\w:.-]/g, '_') || 'tollgate',
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // While Redis is away a command fails at once instead of waiting in a queue: the request
    // goes on unlimited rather than hanging (RateLimit fails open). It reconnects on its own.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  // ioredis reports a lost connection on its 'error' event; unhandled, that event would end the process.
  redis.on('error', (error: Error) =>
    log.warn(
      'redis-connection',
      { reason: error.message },
      'Redis (REDIS_URL) unreachable: rate limits let requests through; signed requests are refused (503)',
    ),
  );
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn(
        'Redis (REDIS_URL) did not answer at start: rate limits let requests through and signed requests are refused (503) until it does',
      );
      resolve();
    }, REDIS_CONNECT_WAIT_MS);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    kind: 'redis',
    nonces: redisNonceStore(redis),
    limit(name, rate, options = {}) {
      const limiter = new RateLimiterRedis({
        ...commonOptions(name, rate, options),
        storeClient: redis,
        // Not connected: fail this call at once (ioredis's status), rather than queue it.
        rejectIfRedisNotReady: true,
      });
      return made(limiter, name, rate, options, log);
    },
    async sweep() {
      return 0;
    },
    async close() {
      // QUIT lets replies under way arrive; without a connection there is nothing to wait for.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
