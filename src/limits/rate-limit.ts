import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { RepeatedLog } from '../lib/repeated-log.js';
import type { Rate } from '../lib/rate.js';

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: RateVerdict = { allowed: true };

const secondsUntil = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** rate-limiter-flexible reads its in-memory blocks with a method its typings leave out. */
interface InMemoryBlocks {
  getInMemoryBlockMsBeforeExpire(rlKey: string): number;
}

/**
 * One fixed-window limit shared by every instance: each `take` counts one request for a key in a
 * single atomic step of the store (an `INSERT … ON CONFLICT … RETURNING` on PostgreSQL, a Lua
 * INCR on Redis), so concurrent requests on any instance cannot slip past it. Built by the
 * store (rate-limit-store.ts), which alone decides where counters live.
 *
 * A store that fails (Redis away, the database away) lets the request through and logs a warning,
 * at most one line per limit every 10 s: a limit guards against abuse, it does not authenticate
 * anyone, and refusing every token request because an auxiliary counter store is down would make
 * that store a single point of failure of the whole service. (On the database store the request
 * then mostly fails anyway, with the 503 every endpoint that needs the database answers.)
 */
export class RateLimit {
  constructor(
    readonly name: string,
    readonly rate: Rate,
    private readonly limiter: RateLimiterStoreAbstract,
    private readonly log: RepeatedLog,
  ) {}

  /** Counts one request for `key`; beyond the limit, how long until the window ends. */
  async take(key: string): Promise<RateVerdict> {
    try {
      await this.limiter.consume(key);
      return ALLOWED;
    } catch (error) {
      if (error instanceof RateLimiterRes)
        return { allowed: false, retryAfterSeconds: secondsUntil(error.msBeforeNext) };
      this.#storeFailed(error);
      return ALLOWED;
    }
  }

  /**
   * Whether `key` is known, in this process's memory, to be over the limit: no store round trip.
   * Only limits made with `blockInMemory` remember; an instance learns of a block from its own
   * `take` that reached the limit.
   */
  blocked(key: string): RateVerdict {
    const ms = (this.limiter as unknown as InMemoryBlocks).getInMemoryBlockMsBeforeExpire(this.limiter.getKey(key));
    return ms > 0 ? { allowed: false, retryAfterSeconds: secondsUntil(ms) } : ALLOWED;
  }

  #storeFailed(error: unknown): void {
    this.log.warn(
      `rate-limit-store:${this.name}`,
      { limit: this.name, reason: error instanceof Error ? error.message : String(error) },
      'rate-limit store unavailable: the request is let through unlimited',
    );
  }
}

/** Fails at start if rate-limiter-flexible no longer has the method `blocked` reads. */
export function checkInMemoryBlocks(limiter: RateLimiterStoreAbstract): void {
  if (typeof (limiter as unknown as Partial<InMemoryBlocks>).getInMemoryBlockMsBeforeExpire !== 'function')
    throw new Error('rate-limiter-flexible has no getInMemoryBlockMsBeforeExpire: check src/limits/rate-limit.ts');
}
