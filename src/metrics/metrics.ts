import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestDurations } from './request-durations.js';

/** What the key-age gauge reads at scrape time: each algorithm's current signing key and when it was activated. */
export type CurrentKeys = () => Iterable<{ alg: string; activatedAt: Date }>;

/** What the pool gauges read at scrape time (undefined where there is no pool). */
export type PoolUsage = () => { inUse: number; pending: number } | undefined;

/** Route and error label values are names from fixed tables; anything else folds into this one value. */
export const OTHER = 'other';
const LABEL_WORD = /^[a-z][a-z0-9_.:/-]{0,63}$/i;

/**
 * One Tollgate instance's Prometheus series, in a registry of its own (never prom-client's global
 * one: a process may run several instances, as the tests do). Recording is a counter increment or
 * one histogram observation; anything read from elsewhere (key age, pool) is read at scrape time.
 * Labels are bounded: a grant type, an OAuth error code, a route name, a status — never a user,
 * a client, a token or a raw path.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly tokensIssued = new Counter({
    name: 'tollgate_tokens_issued_total',
    help: 'Token endpoint successes, by grant type',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });
  readonly oauthErrors = new Counter({
    name: 'tollgate_oauth_errors_total',
    help: 'OAuth/OIDC error answers, by error code',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });
  /** By route name and status: observed on every request, so kept outside prom-client (request-durations.ts). */
  readonly #requestDurations = new RequestDurations(
    'tollgate_http_request_duration_seconds',
    'Request duration, by route name (never the raw path) and status',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly refreshTokenReuse = new Counter({
    name: 'tollgate_refresh_token_reuse_total',
    help: 'Refresh tokens (or codes) presented again after use; each revokes its grant',
    registers: [this.registry],
  });
  readonly keyRotations = new Counter({
    name: 'tollgate_signing_key_rotations_total',
    help: 'Signing key rotations done by this instance (admin API or schedule)',
    registers: [this.registry],
  });
  readonly signInFailures = new Counter({
    name: 'tollgate_sign_in_failures_total',
    help: 'Sign-ins refused for a wrong username or password',
    registers: [this.registry],
  });
  readonly signInThrottled = new Counter({
    name: 'tollgate_sign_in_throttled_total',
    help: 'Sign-in attempts refused with 429 by the attempt throttle',
    registers: [this.registry],
  });
  readonly poolWait = new Histogram({
    name: 'tollgate_db_pool_wait_seconds',
    help: 'Time a query waited for a database connection from the pool (failed acquires included)',
    // From a free connection (microseconds) to knex's acquire timeout (4 s).
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'tollgate_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by the limit (anonymous, client, client_auth_failures)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly apiKeyVerifications = new Counter({
    name: 'tollgate_api_key_verifications_total',
    help: "API keys an API asked Tollgate about, by result: valid, or invalid (malformed, unknown, revoked, expired, another API's)",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly signatureVerifications = new Counter({
    name: 'tollgate_signature_verifications_total',
    help: 'Signed requests an API asked Tollgate to verify (signatures/verify), by result: valid, invalid (unknown key, bad HMAC, created out of window), replayed (nonce seen before), or unavailable (the nonce store failed: 503)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly jwksNotModified = new Counter({
    name: 'tollgate_jwks_not_modified_total',
    help: 'JWKS requests answered 304 Not Modified (a verifier revalidated its cache)',
    registers: [this.registry],
  });

  constructor(readings: { currentKeys: CurrentKeys; pool: PoolUsage }) {
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(this.#requestDurations.asMetric());
    new Gauge({
      name: 'tollgate_signing_key_age_seconds',
      help: "Seconds since each algorithm's current signing key became current",
      labelNames: ['alg'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const key of readings.currentKeys()) this.set({ alg: key.alg }, (now - key.activatedAt.getTime()) / 1000);
      },
    });
    new Gauge({
      name: 'tollgate_db_pool_connections_in_use',
      help: 'Database connections checked out of the pool',
      registers: [this.registry],
      collect() {
        const usage = readings.pool();
        if (usage) this.set(usage.inUse);
      },
    });
    new Gauge({
      name: 'tollgate_db_pool_pending_acquires',
      help: 'Queries waiting for a database connection',
      registers: [this.registry],
      collect() {
        const usage = readings.pool();
        if (usage) this.set(usage.pending);
      },
    });
  }

  /** An OAuth error code as a label: a word from the protocol's tables, or `other`. */
  oauthError(code: unknown): void {
    this.oauthErrors.inc({ error: typeof code === 'string' && LABEL_WORD.test(code) ? code : OTHER });
  }

  /** `route` must come from a fixed table of names (the caller's job); `status` is a number below 600. */
  observeRequest(route: string, status: number, seconds: number): void {
    this.#requestDurations.observe(route, status, seconds);
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
