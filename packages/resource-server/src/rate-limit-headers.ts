import { RateLimitedError, type RateLimitState } from './errors.js';

/** The policy's name in the headers: the limit is the API key's (one policy, so one name). */
const POLICY = '"api-key"';

/**
 * The headers of draft-ietf-httpapi-ratelimit-headers-10 for a rate-limited API key, sent on every
 * response for that key: `RateLimit-Policy` (the quota `q` per window `w` seconds) and, when this
 * process knows them, `RateLimit` (`r` requests remaining, `t` seconds until the window resets).
 * Plus `Retry-After` on a 429 (RFC 9110 §10.2.3).
 */
export function rateLimitHeaders(state: RateLimitState | undefined, error?: unknown): Array<[string, string]> {
  const limited = error instanceof RateLimitedError ? error : undefined;
  const rateLimit = limited?.rateLimit ?? state;
  if (rateLimit === undefined) return [];
  const headers: Array<[string, string]> = [
    ['RateLimit-Policy', `${POLICY};q=${rateLimit.limit};w=${rateLimit.window}`],
  ];
  if (rateLimit.remaining !== undefined && rateLimit.reset !== undefined)
    headers.push(['RateLimit', `${POLICY};r=${rateLimit.remaining};t=${rateLimit.reset}`]);
  if (limited !== undefined) headers.push(['Retry-After', String(limited.retryAfter)]);
  return headers;
}
