import type { Logger } from '../log.js';

export interface PeriodicJob {
  /** Stops the timer; a run already under way finishes on its own. */
  stop(): void;
}

/**
 * Runs `run` every `intervalSeconds` in the background. A tick that comes while the previous run
 * is still going is skipped, so a slow database never piles up runs. A failed run is logged as a
 * warning with `failureMessage` and the next tick tries again: a background job must never take
 * the server down. The timer does not keep the process alive, so a forgotten `stop()` cannot
 * hold up an exit.
 */
export function startPeriodicJob(options: {
  intervalSeconds: number;
  run: () => Promise<unknown>;
  logger: Logger;
  failureMessage: string;
}): PeriodicJob {
  const { run, logger, failureMessage } = options;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    run()
      // The message only: a driver error's other fields (pg's `detail`, say) can quote row values.
      .catch((error: unknown) => logger.warn({ err: { message: errorMessage(error) } }, failureMessage))
      .finally(() => {
        running = false;
      });
  }, options.intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
