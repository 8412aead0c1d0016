import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestDurations } from '../../src/metrics/request-durations.js';

const NAME = 'tollgate_http_request_duration_seconds';
const HELP = 'Request duration, by route name (never the raw path) and status';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same observations through prom-client's Histogram and through RequestDurations, exposed. */
async function bothExpositions(observations: { route: string; status: number; seconds: number }[]) {
  const reference = new Registry();
  const histogram = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['route', 'status'] as const,
    buckets: BUCKETS,
    registers: [reference],
  });
  const ours = new Registry();
  const durations = new RequestDurations(NAME, HELP, BUCKETS);
  ours.registerMetric(durations.asMetric());
  for (const { route, status, seconds } of observations) {
    histogram.observe({ route, status }, seconds);
    durations.observe(route, status, seconds);
  }
  return { reference: await reference.metrics(), ours: await ours.metrics(), durations, registry: ours };
}

describe('the request-duration histogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const observation = fc.record({
      route: fc.constantFrom('token', 'jwks', 'other', 'api_key_verification'),
      status: fc.constantFrom(200, 304, 400, 401, 429, 500),
      // Bucket bounds themselves too: `le` is inclusive.
      seconds: fc.oneof(fc.constantFrom(...BUCKETS, 0, 11), fc.double({ min: 0, max: 12, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const { reference, ours } = await bothExpositions(observations);
        expect(ours).toBe(reference);
      }),
      { numRuns: 200 },
    );
  });

  it('counts every observation: +Inf and _count are the number observed, per series', async () => {
    const observations = Array.from({ length: 1000 }, (_, i) => ({ route: 'token', status: 200, seconds: i / 100 }));
    const { ours } = await bothExpositions(observations);
    expect(ours).toContain(`${NAME}_bucket{le="+Inf",route="token",status="200"} 1000`);
    expect(ours).toContain(`${NAME}_count{route="token",status="200"} 1000`);
    expect(ours).toContain(`${NAME}_bucket{le="0.001",route="token",status="200"} 1`);
  });

  it('is emptied by the registry like any other metric', async () => {
    const { registry } = await bothExpositions([{ route: 'token', status: 200, seconds: 0.002 }]);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('route="token"');
  });
});
