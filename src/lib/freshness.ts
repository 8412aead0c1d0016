/**
 * How long a cached client or API may be served. Past FRESH_MS a lookup refreshes in the
 * background; past MAX_STALE_MS it waits for the database. So a change made through the admin
 * API on one instance reaches every other instance within MAX_STALE_MS plus one query (< 5 s),
 * without a per-request query on the hot path.
 */
export const FRESH_MS = 2_000;
export const MAX_STALE_MS = 4_000;

interface Entry<V> {
  value: V;
  loadedAt: number;
}

/** A bounded cache of values loaded by key, kept fresh by the rule above. */
export class FreshnessCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  /** Loads under way, so concurrent misses for one key share a query. */
  readonly #pending = new Map<K, Promise<V>>();
  /** Bumped by invalidate(), so a load that began before a change cannot store what it read. */
  #generation = 0;

  constructor(
    private readonly load: (key: K) => Promise<V>,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: K): Promise<V> {
    const held = this.peek(key);
    return held ? held.value : this.#refresh(key);
  }

  /**
   * What get() would resolve to without waiting for the database, by the same rule (a refresh
   * begins past FRESH_MS), or undefined when it would wait. For a hot path that would otherwise
   * pay a promise and an await per request for a value it already holds.
   */
  peek(key: K): { value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const age = this.now() - entry.loadedAt;
    if (age > MAX_STALE_MS) return undefined;
    if (age > FRESH_MS) this.#refresh(key).catch(() => undefined);
    return entry;
  }

  /** Forget a key, or everything, at once (this instance made the change). */
  invalidate(key?: K): void {
    this.#generation += 1;
    this.#pending.clear();
    if (key === undefined) this.#entries.clear();
    else this.#entries.delete(key);
  }

  #refresh(key: K): Promise<V> {
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const generation = this.#generation;
    const loading = this.load(key)
      .then((value) => {
        if (generation !== this.#generation) return value;
        if (this.#entries.size >= this.maxEntries && !this.#entries.has(key)) {
          const oldest = this.#entries.keys().next();
          if (!oldest.done) this.#entries.delete(oldest.value);
        }
        this.#entries.set(key, { value, loadedAt: this.now() });
        return value;
      })
      .finally(() => {
        if (this.#pending.get(key) === loading) this.#pending.delete(key);
      });
    this.#pending.set(key, loading);
    return loading;
  }
}
