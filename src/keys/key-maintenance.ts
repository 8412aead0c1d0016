import { startPeriodicJob } from '../lib/periodic-job.js';
import type { Logger } from '../log.js';
import type { KeyRing } from './key-ring.js';
import type { KeySnapshot } from './key-snapshot.js';

/**
 * Every `intervalSeconds`, on every instance: run the scheduled rotation and clean-up (one
 * instance wins the lock), then pick up any change to the ring — made here, by another instance
 * or by `tollgate keys rotate` — and start signing with it. With the default 30 s, every
 * instance serves a rotated ring within 60 s.
 */
export function startKeyMaintenance(options: {
  keyRing: KeyRing;
  intervalSeconds: number;
  apply: (keys: KeySnapshot) => void;
  logger: Logger;
}): { stop(): void; runOnce(): Promise<boolean> } {
  const { keyRing, logger } = options;

  async function runOnce(): Promise<boolean> {
    const maintained = await keyRing.maintain();
    if (!maintained && !(await keyRing.changed())) return false;
    options.apply(await keyRing.load());
    logger.info({ keys: keyRing.list().map(({ kid, alg, state }) => ({ kid, alg, state })) }, 'signing keys changed');
    return true;
  }

  const job = startPeriodicJob({
    intervalSeconds: options.intervalSeconds,
    run: runOnce,
    logger,
    failureMessage: 'key maintenance failed',
  });
  return { stop: job.stop, runOnce };
}
