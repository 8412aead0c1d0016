import type { Knex } from 'knex';
import { startPeriodicJob } from '../lib/periodic-job.js';
import type { Logger } from '../log.js';
import { oidcPayloadStore } from '../artefacts/payload-store.js';

const BATCH = 500;
/** At most this many batches a run, so a backlog never holds the database for long. */
const MAX_BATCHES_PER_RUN = 20;

/**
 * Periodically deletes expired OAuth artefacts in bounded batches, and runs the other
 * clean-up `tasks` (each returns how many rows it removed).
 */
export function startSweeper(
  db: Knex,
  intervalSeconds: number,
  logger: Logger,
  tasks: (() => Promise<number>)[] = [],
): { stop(): void; runOnce(): Promise<number> } {
  async function runOnce(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch += 1) {
      const deleted = await oidcPayloadStore.sweepExpired(db, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
    for (const task of tasks) total += await task();
    if (total) logger.debug({ deleted: total }, 'swept expired artefacts');
    return total;
  }
  const job = startPeriodicJob({
    intervalSeconds,
    run: runOnce,
    logger,
    failureMessage: 'sweeping expired artefacts failed',
  });
  return { stop: job.stop, runOnce };
}
