import { formatRate, type Rate } from '../lib/rate.js';
import type { RateLimit } from './rate-limit.js';
import type { LimitOptions, RateLimitStore } from './rate-limit-store.js';

/**
 * The limit for one rate among those operators wrote per client or per key (`--rate-limit`): one
 * RateLimit per distinct rate, made on first use, all under one name so they share counters —
 * a changed rate counts on in the window under way.
 */
export function limitsByRate(store: RateLimitStore, name: string, options: LimitOptions): (rate: Rate) => RateLimit {
  const limits = new Map<string, RateLimit>();
  // A client's or key's Rate is one object until its cache entry is reloaded: asked for on every
  // token of a limited client, it is found by identity first, without spelling the rate each time.
  const byObject = new WeakMap<Rate, RateLimit>();
  return (rate) => {
    const known = byObject.get(rate);
    if (known) return known;
    const spelled = formatRate(rate);
    let limit = limits.get(spelled);
    if (!limit) limits.set(spelled, (limit = store.limit(name, rate, options)));
    byObject.set(rate, limit);
    return limit;
  };
}
