import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPeriodicJob } from '../../src/lib/periodic-job.js';
import { createLogger } from '../../src/log.js';

function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as (typeof lines)[number]);
        done();
      },
    }),
  );
  return { logger, lines };
}

/** A run that stays under way until the test settles it. */
function deferred() {
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const promise = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, ...settle! };
}

describe('startPeriodicJob', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs once every interval, not before the first one has passed', async () => {
    const { logger } = capturedLogger();
    const run = vi.fn(async () => {});
    const job = startPeriodicJob({ intervalSeconds: 5, run, logger, failureMessage: 'the job failed' });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(3);
    job.stop();
  });

  it('logs a failed run as a warning with its message, and runs again at the next tick', async () => {
    const { logger, lines } = capturedLogger();
    const run = vi.fn().mockRejectedValueOnce(new Error('connection refused')).mockResolvedValue(undefined);
    const job = startPeriodicJob({ intervalSeconds: 1, run, logger, failureMessage: 'the job failed' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'the job failed',
        err: expect.objectContaining({ message: 'connection refused' }),
      }),
    ]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
    expect(lines).toHaveLength(1);
    job.stop();
  });

  it('runs no more once stopped', async () => {
    const { logger } = capturedLogger();
    const run = vi.fn(async () => {});
    const job = startPeriodicJob({ intervalSeconds: 1, run, logger, failureMessage: 'the job failed' });
    await vi.advanceTimersByTimeAsync(2_000);
    job.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('skips the ticks that come while a run is still under way, whether it then succeeds or fails', async () => {
    const { logger, lines } = capturedLogger();
    const runs: ReturnType<typeof deferred>[] = [];
    let concurrent = 0;
    let mostConcurrent = 0;
    const run = vi.fn(async () => {
      const current = deferred();
      runs.push(current);
      concurrent += 1;
      mostConcurrent = Math.max(mostConcurrent, concurrent);
      try {
        await current.promise;
      } finally {
        concurrent -= 1;
      }
    });
    const job = startPeriodicJob({ intervalSeconds: 1, run, logger, failureMessage: 'the job failed' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(run).toHaveBeenCalledTimes(1);
    runs[0]!.reject(new Error('too slow'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(2);
    runs[1]!.resolve();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(3);
    expect(mostConcurrent).toBe(1);
    expect(lines.map((line) => line.msg)).toEqual(['the job failed']);
    job.stop();
  });
});

describe('a periodic job left running', () => {
  it('does not keep the process alive', async () => {
    const module = fileURLToPath(new URL('../../src/lib/periodic-job.ts', import.meta.url));
    const script = `
      const { startPeriodicJob } = await import(${JSON.stringify(module)});
      startPeriodicJob({ intervalSeconds: 3600, run: async () => {}, logger: console, failureMessage: 'failed' });
    `;
    // Node runs the TypeScript module as it is (type stripping); the process must end by itself.
    await expect(
      promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], { timeout: 10_000 }),
    ).resolves.toMatchObject({ stderr: '' });
  });
});
