import type { Knex } from 'knex';
import type { Logger } from '../log.js';
import { startPeriodicJob, type PeriodicJob } from '../lib/periodic-job.js';
import { apiKeyStore } from './api-key-store.js';

/** How often this instance writes the uses it saw: last_used_at lags by at most this much. */
export const LAST_USED_FLUSH_SECONDS = 5;

/**
 * `last_used_at` without a database write per verification: uses are kept in memory (one entry
 * per key, the latest time) and written every few seconds in one UPDATE, and on close. A crash
 * loses at most the last few seconds of "last used" — a hint for people, not a security record.
 */
export class LastUsedRecorder {
  #pending = new Map<string, Date>();
  #job: PeriodicJob | undefined;

  constructor(private readonly db: Knex) {}

  start(logger: Logger): void {
    this.#job = startPeriodicJob({
      intervalSeconds: LAST_USED_FLUSH_SECONDS,
      run: () => this.flush(),
      logger,
      failureMessage: 'recording when API keys were last used failed',
    });
  }

  used(keyId: string, at: Date = new Date()): void {
    this.#pending.set(keyId, at);
  }

  /** A use this instance saw and has not written yet (so show/list are current on this instance). */
  pending(keyId: string): Date | undefined {
    return this.#pending.get(keyId);
  }

  async flush(): Promise<void> {
    if (!this.#pending.size) return;
    const uses = this.#pending;
    this.#pending = new Map();
    try {
      await apiKeyStore.recordLastUsed(this.db, uses);
    } catch (error) {
      // Kept for the next flush, unless a newer use of the same key came meanwhile.
      for (const [id, at] of uses) if (!this.#pending.has(id)) this.#pending.set(id, at);
      throw error;
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    this.#job?.stop();
    await this.flush();
  }
}
