import { describe, expect, it } from 'vitest';
import { FRESH_MS, FreshnessCache, MAX_STALE_MS } from '../../src/lib/freshness.js';

function harness() {
  let now = 0;
  let version = 0;
  const loads: number[] = [];
  const cache = new FreshnessCache<string, number>(async () => {
    loads.push(now);
    return version;
  }, 10, () => now);
  return {
    cache,
    loads,
    advance: (ms: number) => { now += ms; },
    change: () => { version += 1; },
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
      return calls === 1 ? new Promise<number>((resolve) => { release = resolve; }) : Promise.resolve(2);
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
});
