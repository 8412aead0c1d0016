import type { Metric } from 'prom-client';

/*
 * Counters and histograms recorded on the hot paths (every request, every token, every API-key
 * verification, every pool acquire), kept here and handed to prom-client's registry as metrics of
 * their own. prom-client's Counter and Histogram turn each call's labels into an object, validate
 * them and hash them into a key, even through `labels()`: measurable on the token path (issue 16)
 * and on API-key verification (issue 17). Here a series is found once and kept; recording is a
 * map lookup at most and a few additions. Every call is counted, and the exposition is what
 * prom-client writes for the same calls (test/ops/exact-metrics.test.ts compares them).
 */

type LabelValues = Readonly<Record<string, string>>;

/** One histogram series: observations per bucket (not cumulative), the last for +Inf. */
export interface HistogramSeries {
  observe(value: number): void;
}

interface HistogramData {
  labels: LabelValues;
  /** The series without labels is shown from the start, with zeros, as prom-client shows it. */
  shownEmpty: boolean;
  counts: number[];
  sum: number;
  count: number;
}

export class ExactHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** In the order they were made (first observed): prom-client's order. */
  readonly #series: HistogramData[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.#bounds = [...buckets].sort((a, b) => a - b);
  }

  /** A series, made once by the caller and kept; a labelled one is shown once it has an observation. */
  series(labels: LabelValues = {}): HistogramSeries {
    const bounds = this.#bounds;
    const data: HistogramData = {
      labels,
      shownEmpty: Object.keys(labels).length === 0,
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
    };
    this.#series.push(data);
    return {
      observe(value) {
        let bucket = 0;
        // `le` is inclusive: a value equal to a bound is in that bucket.
        while (bucket < bounds.length && value > bounds[bucket]!) bucket += 1;
        data.counts[bucket]! += 1;
        data.sum += value;
        data.count += 1;
      },
    };
  }

  async get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const { labels, counts, sum, count, shownEmpty } of this.#series) {
      if (count === 0 && !shownEmpty) continue;
      let cumulative = 0;
      for (let bucket = 0; bucket < counts.length; bucket += 1) {
        cumulative += counts[bucket]!;
        const le = bucket < this.#bounds.length ? this.#bounds[bucket]! : '+Inf';
        values.push({ value: cumulative, labels: { le, ...labels }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: sum, labels: { ...labels }, metricName: `${this.name}_sum` });
      values.push({ value: count, labels: { ...labels }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Every series back to no observations (and out of the exposition until its next one). */
  reset(): void {
    for (const data of this.#series) {
      data.counts.fill(0);
      data.sum = 0;
      data.count = 0;
    }
  }

  asMetric(): Metric {
    return this as unknown as Metric;
  }
}

/**
 * A counter with at most one label (all of Tollgate's have one or none). Unlabelled, it shows 0
 * from the start, as prom-client's does; labelled, each value once it has been counted.
 */
export class ExactCounter<Label extends string = never> {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #counts = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly label?: Label,
  ) {
    if (label === undefined) this.#counts.set('', 0);
  }

  inc(labels?: Readonly<Record<Label, string>>, value = 1): void {
    const key = this.label === undefined || labels === undefined ? '' : labels[this.label];
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + value);
  }

  async get() {
    const values = [...this.#counts].map(([key, value]) => ({
      value,
      labels: this.label === undefined ? {} : { [this.label]: key },
    }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#counts.clear();
    if (this.label === undefined) this.#counts.set('', 0);
  }

  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
