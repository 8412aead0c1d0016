import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ExactCounter, ExactHistogram, type HistogramSeries } from './exact-metrics.js';

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
 * one histogram observation (exact-metrics.ts: no label hashing per call); anything read from elsewhere (key age, pool) is read at scrape time.
 * Labels are bounded: a grant type, an OAuth error code, a route name, a status — never a user,
 * a client, a token or a raw path.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly tokensIssued = this.#counter(
    'tollgate_tokens_issued_total',
    'Token endpoint successes, by grant type',
    'grant_type',
  );
  readonly oauthErrors = this.#counter(
    'tollgate_oauth_errors_total',
    'OAuth/OIDC error answers, by error code',
    'error',
  );
  readonly #requestDuration = this.#registered(
    new ExactHistogram(
      'tollgate_http_request_duration_seconds',
      'Request duration, by route name (never the raw path) and status',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  );
  /** The request-duration series by route, then status (bounded: both come from fixed tables). */
  readonly #durationSeries = new Map<string, Map<number, HistogramSeries>>();
  readonly refreshTokenReuse = this.#counter(
    'tollgate_refresh_token_reuse_total',
    'Refresh tokens (or codes) presented again after use; each revokes its grant',
  );
  readonly keyRotations = this.#counter(
    'tollgate_signing_key_rotations_total',
    'Signing key rotations done by this instance (admin API or schedule)',
  );
  readonly signInFailures = this.#counter(
    'tollgate_sign_in_failures_total',
    'Sign-ins refused for a wrong username or password',
  );
  readonly signInThrottled = this.#counter(
    'tollgate_sign_in_throttled_total',
    'Sign-in attempts refused with 429 by the attempt throttle',
  );
  /** Observed on every query's pool acquire: one series, kept. */
  readonly poolWait = this.#registered(
    new ExactHistogram(
      'tollgate_db_pool_wait_seconds',
      'Time a query waited for a database connection from the pool (failed acquires included)',
      // From a free connection (microseconds) to knex's acquire timeout (4 s).
      [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5],
    ),
  ).series();
  readonly rateLimited = this.#counter(
    'tollgate_rate_limited_total',
    'Requests refused with 429 by a rate limit, by the limit (anonymous, client, client_auth_failures)',
    'limit',
  );
  readonly apiKeyVerifications = this.#counter(
    'tollgate_api_key_verifications_total',
    "API keys an API asked Tollgate about, by result: valid, or invalid (malformed, unknown, revoked, expired, another API's)",
    'result',
  );
  readonly signatureVerifications = this.#counter(
    'tollgate_signature_verifications_total',
    'Signed requests an API asked Tollgate to verify (signatures/verify), by result: valid, invalid (unknown key, bad HMAC, created out of window), replayed (nonce seen before), or unavailable (the nonce store failed: 503)',
    'result',
  );
  readonly jwksNotModified = this.#counter(
    'tollgate_jwks_not_modified_total',
    'JWKS requests answered 304 Not Modified (a verifier revalidated its cache)',
  );

  constructor(readings: { currentKeys: CurrentKeys; pool: PoolUsage }) {
    collectDefaultMetrics({ register: this.registry });
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
    let byStatus = this.#durationSeries.get(route);
    if (!byStatus) this.#durationSeries.set(route, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = this.#requestDuration.series({ route, status: String(status) })));
    series.observe(seconds);
  }

  /** Counters and histograms recorded on hot paths are Tollgate's own (exact-metrics.ts), in this registry. */
  #registered<M extends ExactCounter<string> | ExactHistogram>(metric: M): M {
    this.registry.registerMetric(metric.asMetric());
    return metric;
  }

  #counter<Label extends string = never>(name: string, help: string, label?: Label): ExactCounter<Label> {
    return this.#registered(
      new ExactCounter(name, help, label) as ExactCounter<string>,
    ) as unknown as ExactCounter<Label>;
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
