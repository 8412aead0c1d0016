/**
 * Remembers DPoP proof identifiers (RFC 9449 §11.1) and signed requests' nonces (RFC 9421 §7.2.2)
 * until their proofs or signatures could no longer be accepted anyway. Implement it over a shared store (e.g. Redis `SET key 1 NX PXAT expiresAt`)
 * when several instances of an API must refuse each other's replays.
 */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (ms since the epoch). Answers `true` the first time, `false` if
   * the key was already recorded and has not expired: that proof is a replay.
   */
  use(key: string, expiresAt: number): boolean | Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  /** Upper bound on remembered proofs; the oldest are forgotten first. Default 100 000. */
  maxEntries?: number;
}

/**
 * The in-process default: a Map in insertion order, which is also (nearly) expiry order because
 * every entry lives for the same window. Bounded in time (expired entries are swept on insert)
 * and in size (beyond `maxEntries`, the oldest entry goes, so memory cannot be exhausted).
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1)
      throw new TypeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  use(key: string, expiresAt: number): boolean {
    const now = Date.now();
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen > now) return false;
    this.#sweep(now);
    this.#entries.delete(key);
    this.#entries.set(key, expiresAt);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return true;
  }

  /** Drops expired entries from the front; stops at the first live one (amortised O(1)). */
  #sweep(now: number): void {
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
