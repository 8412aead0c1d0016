import type { Logger } from '../log.js';

/** How many kinds are remembered at once; past it the oldest is forgotten (it may log again). */
const MAX_KINDS = 500;

/**
 * Log lines at most one per kind per interval, each with the number of times its kind happened
 * since the previous line. A database outage fails every request the same way: one line with a
 * stack per request (465 lines in 5 s, issue 14) buries everything else and costs I/O exactly
 * when the service is struggling.
 */
export class RepeatedLog {
  readonly #kinds = new Map<string, { loggedAt: number; since: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#log('error', kind, fields, message);
  }

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#log('warn', kind, fields, message);
  }

  #log(level: 'error' | 'warn', kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const seen = this.#kinds.get(kind);
    if (seen && now - seen.loggedAt < this.intervalMs) {
      seen.since += 1;
      return;
    }
    this.#kinds.delete(kind);
    if (this.#kinds.size >= MAX_KINDS) this.#kinds.delete(this.#kinds.keys().next().value!);
    this.#kinds.set(kind, { loggedAt: now, since: 0 });
    // `occurrences`: this one and those not logged since the previous line of this kind.
    this.logger[level]({ ...fields, error_kind: kind, occurrences: (seen?.since ?? 0) + 1 }, message);
  }
}
