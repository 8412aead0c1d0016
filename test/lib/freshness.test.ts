import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRESH_MS, FreshnessCache, MAX_STALE_MS } from '../../src/lib/freshness.js';

function harness() {
  let now = 0;
  let version = 0;
  const loads: number[] = [];
  const cache = new FreshnessCache<string, number>(
    async () => {
      loads.push(now);
      return version;
    },
    10,
    () => now,
  );
  return {
    cache,
    loads,
    advance: (ms: number) => {
      now += ms;
    },
    change: () => {
      version += 1;
    },
  };
}

describe('FreshnessCache', () => {
  it('serves from memory while fresh', async () => {
    const h = harness();
    expect(await h.cache.get('a')).toBe(0);
    h.change();
    h.advance(FRESH_MS);
    expect(await h.cache.get('a')).toBe(0);
    expect(h.loads).toHaveLength(1);
  });

  it('refreshes in the background once stale, and waits for the database past MAX_STALE_MS', async () => {
    const h = harness();
    await h.cache.get('a');
    h.change();
    h.advance(FRESH_MS + 1);
    expect(await h.cache.get('a')).toBe(0); // stale value served, refresh started
    await Promise.resolve();
    expect(await h.cache.get('a')).toBe(1);
    h.change();
    h.advance(MAX_STALE_MS + 1);
    expect(await h.cache.get('a')).toBe(2); // too old to serve: waited for the load
  });

  it('so a change is visible within 5 s even with no traffic in between', () => {
    expect(MAX_STALE_MS).toBeLessThan(5_000);
  });

  it('invalidate() forgets at once, and a load begun before it cannot store an old value', async () => {
    let release: (value: number) => void = () => undefined;
    let calls = 0;
    const cache = new FreshnessCache<string, number>(() => {
      calls += 1;
      return calls === 1
        ? new Promise<number>((resolve) => {
            release = resolve;
          })
        : Promise.resolve(2);
    });
    const slow = cache.get('a');
    cache.invalidate('a');
    release(1);
    expect(await slow).toBe(1);
    expect(await cache.get('a')).toBe(2);
  });

  it('shares one load among concurrent misses and stays bounded', async () => {
    const h = harness();
    await Promise.all([h.cache.get('a'), h.cache.get('a'), h.cache.get('a')]);
    expect(h.loads).toHaveLength(1);
    for (let i = 0; i < 50; i += 1) await h.cache.get(`k${i}`);
    expect(h.loads.length).toBe(51);
    await h.cache.get('k49');
    expect(h.loads.length).toBe(51);
    await h.cache.get('k0'); // evicted long ago
    expect(h.loads.length).toBe(52);
  });

  it('never serves a value read longer than MAX_STALE_MS ago, and reads the database at most once per FRESH_MS while in use', async () => {
    const step = fc.record({ advance: fc.nat({ max: MAX_STALE_MS * 2 }), key: fc.constantFrom('a', 'b') });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        let now = 0;
        const reads: { key: string; at: number }[] = [];
        const cache = new FreshnessCache<string, { readAt: number }>(
          async (key) => {
            reads.push({ key, at: now });
            return { readAt: now };
          },
          10,
          () => now,
        );
        for (const { advance, key } of steps) {
          now += advance;
          const served = await cache.get(key);
          expect(now - served.readAt).toBeLessThanOrEqual(MAX_STALE_MS);
          // Let a background refresh finish, as a database query would between requests.
          await new Promise((resolve) => setImmediate(resolve));
        }
        for (const key of ['a', 'b']) {
          const times = reads.filter((read) => read.key === key).map((read) => read.at);
          for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeGreaterThan(FRESH_MS);
        }
      }),
      { numRuns: 200 },
    );
  });
  it('peek() holds what get() would serve at once, by the same bound, and undefined where get() would wait', async () => {
    const h = harness();
    expect(h.cache.peek('a')).toBeUndefined(); // never loaded: get() would wait
    expect(h.loads).toHaveLength(0);
    await h.cache.get('a');
    h.change();
    h.advance(FRESH_MS);
    expect(h.cache.peek('a')?.value).toBe(0);
    expect(h.loads).toHaveLength(1); // fresh: no refresh
    h.advance(1);
    expect(h.cache.peek('a')?.value).toBe(0); // stale: served, and a refresh begins
    expect(h.loads).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.cache.peek('a')?.value).toBe(1);
    h.change();
    h.advance(MAX_STALE_MS + 1);
    expect(h.cache.peek('a')).toBeUndefined(); // too old: get() would wait for the database
    expect(await h.cache.get('a')).toBe(2);
  });

  it('peek() never holds a value read longer than MAX_STALE_MS ago', async () => {
    const step = fc.record({ advance: fc.nat({ max: MAX_STALE_MS * 2 }), load: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        let now = 0;
        const cache = new FreshnessCache<string, { readAt: number }>(
          async () => ({ readAt: now }),
          10,
          () => now,
        );
        for (const { advance, load } of steps) {
          now += advance;
          const held = load ? { value: await cache.get('a') } : cache.peek('a');
          if (held) expect(now - held.value.readAt).toBeLessThanOrEqual(MAX_STALE_MS);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
      { numRuns: 200 },
    );
  });
});
