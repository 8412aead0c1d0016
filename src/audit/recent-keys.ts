/** How many keys are remembered at once; past it the oldest is forgotten (it may record again). */
const MAX_KEYS = 10_000;

/**
 * Says yes to a key at most once per interval, on this instance. A refused sign-in costs the
 * caller nothing (no password is checked), so without this each one would be a row in the audit
 * log: a loop could fill the table. The first refusal per username and address per interval is
 * recorded; the metric tollgate_sign_in_throttled_total counts them all.
 */
export class RecentKeys {
  readonly #seen = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  firstInInterval(key: string): boolean {
    const now = Date.now();
    const at = this.#seen.get(key);
    if (at !== undefined && now - at < this.intervalMs) return false;
    this.#seen.delete(key);
    if (this.#seen.size >= MAX_KEYS) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, now);
    return true;
  }
}
