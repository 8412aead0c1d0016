import type { Metric } from 'prom-client';

/** One (route, status) series: cumulative-at-scrape bucket counts, their sum and count. */
interface Series {
  readonly route: string;
  readonly status: string;
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * The request-duration histogram (one observation per request, on every request), kept here and
 * handed to the registry as a metric of its own. prom-client's Histogram makes each observation
 * turn its labels into an object, validate them and hash them into a key, even through
 * `labels()`: measurable on the token path (issue 16). Here a series is found by route, then
 * by status, in two maps of strings and numbers, and an observation is a bucket search and three
 * additions. Every observation is counted: the exposition is the same histogram, exactly, in the
 * format prom-client writes (`_bucket` with `le` first and cumulative counts, `_sum`, `_count`).
 */
export class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Map<number, Series>>();
  /** The same series in the order they first appeared, the order prom-client exposes them in. */
  readonly #ordered: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    upperBounds: readonly number[],
  ) {
    this.#bounds = [...upperBounds].sort((a, b) => a - b);
  }

  /** `route` from a fixed table of names and `status` below 600 (the caller's job: labels stay bounded). */
  observe(route: string, status: number, seconds: number): void {
    let byStatus = this.#series.get(route);
    if (!byStatus) this.#series.set(route, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = {
        route,
        status: String(status),
        counts: new Array<number>(this.#bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
      this.#ordered.push(series);
    }
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]!) bucket += 1;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** What the registry exposes (prom-client's metric shape). */
  async get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const { route, status, counts, sum, count } of this.#ordered) {
      let cumulative = 0;
      for (let bucket = 0; bucket < counts.length; bucket += 1) {
        cumulative += counts[bucket]!;
        const le = bucket < this.#bounds.length ? this.#bounds[bucket]! : '+Inf';
        values.push({ value: cumulative, labels: { le, route, status }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: sum, labels: { route, status }, metricName: `${this.name}_sum` });
      values.push({ value: count, labels: { route, status }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
    this.#ordered.length = 0;
  }

  /** As the registry takes it: prom-client registers any object with a name and get(). */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
