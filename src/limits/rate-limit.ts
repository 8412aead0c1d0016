import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { RepeatedLog } from '../lib/repeated-log.js';
import type { Rate } from '../lib/rate.js';

/** Points of one key this instance may spend without asking the store, until its window ends. */
interface Lease {
  remaining: number;
  until: number;
  /** The store refused: the window is full on every instance until it ends. */
  full?: boolean;
}

/** Leases are swept of ended windows when there are more than this (keys are clients: few). */
const MAX_LEASES = 1000;

/**
 * A limit of `rate.points` a window is taken from the shared counter in leases of this many
 * points (at most 1/50 of the limit, never less than 1): a busy client costs one store round
 * trip per lease rather than one per request — at 1,000/s, 50 writes a second instead of 1,000.
 * The count stays a bound across instances, never exceeded: a lease is counted in the store when
 * taken. What it costs is the other way round: points an instance leased and did not spend
 * before the window ended are lost, so with N instances a client may be refused up to
 * N × (lease − 1) requests (N × 2 %) before its limit. Limits of 99 a window or fewer lease one
 * point at a time, exactly as before.
 */
export function leaseSize(rate: Rate): number {
  return Math.max(1, Math.floor(rate.points / 50));
}

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Points handed to another process (an API's library) to spend on its own, until the window resets. */
export interface Grant {
  /** Requests the holder may serve, this one included; 0 when the limit is reached. */
  granted: number;
  /** What the shared count has left for the window after this grant. */
  remaining: number;
  /** Whole seconds (at least 1) until the window ends; the grant is void after it. */
  resetSeconds: number;
}

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
  /** Points this instance took from the shared counter and has not spent yet, by key (see leaseSize). */
  readonly #leases = new Map<string, Lease>();
  /** The lease being taken from the store, by key: at most one at a time on this instance. */
  readonly #leasing = new Map<string, Promise<RateVerdict>>();
  /** Whether any key has reached the limit in this process: until one has, none is blocked in memory. */
  #reachedOnce = false;

  constructor(
    readonly name: string,
    readonly rate: Rate,
    private readonly limiter: RateLimiterStoreAbstract,
    private readonly log: RepeatedLog,
    /** Points taken from the store at once (1: every request is one store round trip). */
    private readonly leaseSize = 1,
  ) {}

  /**
   * take() when this instance's lease for `key` decides it (a point left, or the window known to be
   * full), without a promise; undefined when the store must be asked (then call take()).
   */
  takeLeased(key: string): RateVerdict | undefined {
    if (this.leaseSize === 1) return undefined;
    const now = Date.now();
    const lease = this.#leases.get(key);
    if (!lease || lease.until <= now) return undefined;
    if (lease.full) return { allowed: false, retryAfterSeconds: secondsUntil(lease.until - now) };
    if (lease.remaining <= 0) return undefined;
    lease.remaining -= 1;
    return ALLOWED;
  }

  /** Counts one request for `key`; beyond the limit, how long until the window ends. */
  async take(key: string): Promise<RateVerdict> {
    if (this.leaseSize === 1) return this.#takeFromStore(key);
    for (;;) {
      const leased = this.takeLeased(key);
      if (leased) return leased;
      // One lease at a time per key on this instance: requests arriving while it is being taken
      // wait for it and share it. Taking leases side by side would leave points unspent when
      // their answers arrive after the requests that could have spent them were refused.
      const pending = this.#leasing.get(key);
      if (!pending) {
        const leasing = this.#takeFromStore(key).finally(() => this.#leasing.delete(key));
        this.#leasing.set(key, leasing);
        return leasing;
      }
      const verdict = await pending;
      if (!verdict.allowed) return verdict;
    }
  }

  /**
   * A lease of `leaseSize` points taken from the store for someone else to spend: an API's library
   * asking Tollgate (src/http/api-key-verification.ts) spends it on requests Tollgate never sees.
   * Of a lease that overshoots the limit, what still fitted is granted. Undefined when the store
   * failed: the limit fails open, as `take` does.
   */
  async grant(key: string): Promise<Grant | undefined> {
    try {
      const taken = await this.limiter.consume(key, this.leaseSize);
      if (taken.consumedPoints >= this.rate.points) this.#reachedOnce = true;
      return {
        granted: this.leaseSize,
        remaining: Math.max(0, this.rate.points - taken.consumedPoints),
        resetSeconds: secondsUntil(taken.msBeforeNext),
      };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.#storeFailed(error);
        return undefined;
      }
      this.#reachedOnce = true;
      const fitted = this.rate.points - (error.consumedPoints - this.leaseSize);
      return { granted: Math.max(0, fitted), remaining: 0, resetSeconds: secondsUntil(error.msBeforeNext) };
    }
  }

  /** One request's point, and with it the rest of a lease, from the store. */
  async #takeFromStore(key: string): Promise<RateVerdict> {
    const now = Date.now();
    try {
      const taken = await this.limiter.consume(key, this.leaseSize);
      if (taken.consumedPoints >= this.rate.points) this.#reachedOnce = true;
      this.#lease(key, this.leaseSize - 1, now + taken.msBeforeNext);
      return ALLOWED;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.#storeFailed(error);
        return ALLOWED;
      }
      this.#reachedOnce = true;
      // The counter took the whole lease; what of it still fitted under the limit is this
      // instance's (the rest only makes the shared count overshoot, which refuses nothing more).
      const fitted = this.rate.points - (error.consumedPoints - this.leaseSize);
      if (fitted > 0) {
        this.#lease(key, fitted - 1, now + error.msBeforeNext);
        return ALLOWED;
      }
      // No count goes down before the window ends: later requests are refused from memory.
      if (this.leaseSize > 1) this.#leases.set(key, { remaining: 0, until: now + error.msBeforeNext, full: true });
      return { allowed: false, retryAfterSeconds: secondsUntil(error.msBeforeNext) };
    }
  }

  #lease(key: string, points: number, until: number): void {
    if (this.leaseSize === 1) return;
    this.#leases.set(key, { remaining: points, until });
    if (this.#leases.size > MAX_LEASES) {
      const now = Date.now();
      for (const [leased, { until: end }] of this.#leases) if (end <= now) this.#leases.delete(leased);
    }
  }

  /**
   * Whether `key` is known, in this process's memory, to be over the limit: no store round trip.
   * Only limits made with `blockInMemory` remember; an instance learns of a block from its own
   * `take` that reached the limit.
   */
  blocked(key: string): RateVerdict {
    // Checked on every request (the failed-authentication limit): most processes never block anyone.
    if (!this.#reachedOnce) return ALLOWED;
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
