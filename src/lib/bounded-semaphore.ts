/** Thrown when every slot is taken and the waiting line is full: the caller should answer "busy". */
export class BusyError extends Error {
  override name = 'BusyError';
}

/**
 * At most `slots` tasks run at once; up to `maxWaiting` more wait their turn in order, and any
 * beyond that are refused at once with BusyError instead of piling up. Hand-written (a dozen
 * lines): p-limit and friends queue without bound, and the bound is the point here.
 */
export class BoundedSemaphore {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly slots: number,
    readonly maxWaiting: number,
  ) {}

  /** Runs `task` in a slot; `wait: 'unbounded'` queues it even past maxWaiting (for callers who proved who they are). */
  async run<T>(task: () => Promise<T>, wait: 'bounded' | 'unbounded' = 'bounded'): Promise<T> {
    if (this.#running >= this.slots) {
      if (wait === 'bounded' && this.#waiting.length >= this.maxWaiting) throw new BusyError('too many tasks waiting');
      // The slot is handed over by the finishing task, so #running is not decremented in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  /** Tasks running now and waiting, for tests and diagnostics. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }
}
