import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ExactCounter, ExactHistogram, type HistogramSeries } from '../../src/metrics/exact-metrics.js';

const NAME = 'tollgate_http_request_duration_seconds';
const HELP = 'Request duration, by route name (never the raw path) and status';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Observation {
  route: string;
  status: number;
  seconds: number;
}

/** The same observations through prom-client's Histogram and through ExactHistogram (series kept per labels, as Metrics does). */
async function histograms(observations: Observation[]) {
  const reference = new Registry();
  const histogram = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['route', 'status'] as const,
    buckets: BUCKETS,
    registers: [reference],
  });
  const ours = new Registry();
  const exact = new ExactHistogram(NAME, HELP, BUCKETS);
  ours.registerMetric(exact.asMetric());
  const kept = new Map<string, HistogramSeries>();
  for (const { route, status, seconds } of observations) {
    histogram.observe({ route, status }, seconds);
    const key = `${route} ${status}`;
    if (!kept.has(key)) kept.set(key, exact.series({ route, status: String(status) }));
    kept.get(key)!.observe(seconds);
  }
  return { reference: await reference.metrics(), ours: await ours.metrics(), registry: ours };
}

describe('exact metrics (recorded on hot paths without prom-client per call)', () => {
  it("a histogram exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const observation = fc.record({
      route: fc.constantFrom('token', 'jwks', 'other', 'api_key_verification'),
      status: fc.constantFrom(200, 304, 400, 401, 429, 500),
      // The bounds themselves too: `le` is inclusive.
      seconds: fc.oneof(fc.constantFrom(...BUCKETS, 0, 11), fc.double({ min: 0, max: 12, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const { reference, ours } = await histograms(observations);
        expect(ours).toBe(reference);
      }),
      { numRuns: 200 },
    );
  });

  it('a histogram counts every observation: +Inf and _count are the number observed', async () => {
    const observations = Array.from({ length: 1000 }, (_, i) => ({ route: 'token', status: 200, seconds: i / 100 }));
    const { ours } = await histograms(observations);
    expect(ours).toContain(`${NAME}_bucket{le="+Inf",route="token",status="200"} 1000`);
    expect(ours).toContain(`${NAME}_count{route="token",status="200"} 1000`);
    expect(ours).toContain(`${NAME}_bucket{le="0.001",route="token",status="200"} 1`);
  });

  it('an unlabelled histogram (the pool wait) exposes as prom-client does', async () => {
    const reference = new Registry();
    const histogram = new Histogram({ name: 'wait', help: 'h', buckets: [0.001, 1], registers: [reference] });
    const ours = new Registry();
    const exact = new ExactHistogram('wait', 'h', [0.001, 1]);
    ours.registerMetric(exact.asMetric());
    const series = exact.series();
    expect(await ours.metrics()).toBe(await reference.metrics()); // nothing observed yet
    for (const value of [0.0005, 0.001, 0.5, 3]) {
      histogram.observe(value);
      series.observe(value);
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it("a counter exposes exactly what prom-client's Counter exposes, labelled or not", async () => {
    const step = fc.record({
      value: fc.constantFrom('valid', 'invalid', 'replayed'),
      by: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const reference = new Registry();
        const labelled = new Counter({ name: 'a_total', help: 'a', labelNames: ['result'], registers: [reference] });
        const plain = new Counter({ name: 'b_total', help: 'b', registers: [reference] });
        const ours = new Registry();
        const exactLabelled = new ExactCounter('a_total', 'a', 'result');
        const exactPlain = new ExactCounter('b_total', 'b');
        ours.registerMetric(exactLabelled.asMetric());
        ours.registerMetric(exactPlain.asMetric());
        for (const { value, by } of steps) {
          labelled.inc({ result: value }, by);
          exactLabelled.inc({ result: value }, by);
          plain.inc();
          exactPlain.inc();
        }
        expect(await ours.metrics()).toBe(await reference.metrics());
      }),
      { numRuns: 100 },
    );
  });

  it('are emptied by the registry like any other metric', async () => {
    const { registry } = await histograms([{ route: 'token', status: 200, seconds: 0.002 }]);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('route="token"');
  });
});
