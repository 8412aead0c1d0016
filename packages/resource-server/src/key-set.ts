import type { JWSHeaderParameters } from 'jose';
import type { webcrypto } from 'node:crypto';
import type { Discovery } from './discovery.js';
import { InvalidTokenError, KeySetUnavailableError } from './errors.js';
import { FetchError, fetchJson, freshnessLifetime, type Fetch } from './http.js';
import { EMPTY_INDEX, indexKeySet, type KeyIndex } from './key-index.js';

type CryptoKey = webcrypto.CryptoKey;

export interface KeySetOptions {
  /** Shared with the API-key client: one discovery document for both. */
  discovery: Discovery;
  /** Skips discovery when set. */
  jwksUri: string | undefined;
  algorithms: readonly string[];
  fetch: Fetch;
  /** Every duration below is in milliseconds. */
  timeout: number;
  cooldown: number;
  minCacheAge: number;
  maxCacheAge: number;
  /** Used when the JWKS response says nothing about caching. */
  defaultCacheAge: number;
  maxStale: number;
}

/** What the key set knows about its last fetch, for diagnostics and health checks. */
export interface KeySetStatus {
  keys: number;
  fetchedAt: number | undefined;
  freshUntil: number;
  usableUntil: number;
  lastError: Error | undefined;
}

/**
 * The issuer's signing keys, found through discovery and cached.
 *
 * - Fresh for the response's `Cache-Control: max-age`, bounded to [minCacheAge, maxCacheAge].
 * - A token with an unknown `kid` triggers at most one refetch per cooldown; concurrent callers share
 *   one request. A flood of forged kids therefore costs the issuer one request per cooldown.
 * - When a refresh fails, the last good set keeps serving until `maxStale` past its freshness, and
 *   never longer. Each successful fetch replaces the whole set, so a key the issuer has withdrawn is
 *   gone as soon as the issuer answers again.
 */
export class RemoteKeySet {
  #index: KeyIndex = EMPTY_INDEX;
  #fetchedAt: number | undefined;
  #freshUntil = 0;
  #usableUntil = 0;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastUnknownKidRefetchAt = Number.NEGATIVE_INFINITY;
  #lastError: Error | undefined;
  #jwksUri: string | undefined;
  #inflight: Promise<void> | undefined;

  constructor(private readonly options: KeySetOptions) {
    this.#jwksUri = options.jwksUri;
  }

  /**
   * jose's key resolver. The hot path — a fresh set and a known kid — is synchronous: one clock
   * read and two map look-ups.
   */
  readonly resolve = (header: JWSHeaderParameters): CryptoKey | Promise<CryptoKey> => {
    const now = Date.now();
    if (now < this.#freshUntil) {
      const key = this.#find(header);
      if (key !== undefined) return key;
    }
    return this.#resolveSlowly(header, now);
  };

  /** Fetches the set now (at start-up, to take the first request's latency out of the path). */
  async refresh(): Promise<void> {
    await this.#refresh();
    if (this.#lastError) throw new KeySetUnavailableError(this.#lastError);
  }

  status(): KeySetStatus {
    return {
      keys: this.#index.size,
      fetchedAt: this.#fetchedAt,
      freshUntil: this.#freshUntil,
      usableUntil: this.#usableUntil,
      lastError: this.#lastError,
    };
  }

  /** The key for this header in the current index; `undefined` when the kid is unknown. */
  #find(header: JWSHeaderParameters): CryptoKey | undefined {
    const alg = header.alg as string; // jose has checked it against the allowed algorithms.
    if (typeof header.kid === 'string') {
      const byAlg = this.#index.byKid.get(header.kid);
      if (byAlg === undefined) return undefined;
      const key = byAlg.get(alg);
      if (key === undefined) throw new InvalidTokenError(`the signing key does not allow ${alg}`);
      if (key === null) throw new InvalidTokenError("the key id is ambiguous in the issuer's key set");
      return key;
    }
    if (header.kid !== undefined) throw new InvalidTokenError('the kid header is not a string');
    // RFC 9068 tokens carry a kid; without one, only an unambiguous key for the algorithm will do.
    const candidates = this.#index.byAlg.get(alg);
    if (candidates?.length === 1) return candidates[0];
    throw new InvalidTokenError(
      candidates ? 'the token has no kid and several keys match its alg' : 'no key of the issuer matches the token',
    );
  }

  async #resolveSlowly(header: JWSHeaderParameters, now: number): Promise<CryptoKey> {
    if (now < this.#freshUntil) return this.#refetchForUnknownKid(header, now);

    // The set has expired (or was never fetched).
    if (now < this.#usableUntil && this.#lastError !== undefined) {
      // The issuer was already failing: answer from the stale set at once and retry in the
      // background, so a black-holed issuer does not add its timeout to requests.
      if (now - this.#lastAttemptAt >= this.options.cooldown) void this.#refresh();
      return this.#findOrReject(header);
    }
    // Never fetched, or stale beyond use, and the issuer failed a moment ago: do not hammer it.
    if (this.#lastError !== undefined && !this.#inflight && now - this.#lastAttemptAt < this.options.cooldown) {
      throw this.#unavailable();
    }
    await this.#refresh();
    if (this.#lastError === undefined || Date.now() < this.#usableUntil) {
      const key = this.#find(header);
      if (key !== undefined) return key;
      throw new InvalidTokenError('the token is signed with a key the issuer does not publish');
    }
    throw this.#unavailable();
  }

  async #refetchForUnknownKid(header: JWSHeaderParameters, now: number): Promise<CryptoKey> {
    if (!this.#inflight) {
      // Its own clock, not the last fetch's: a key rotated in just after a scheduled fetch is
      // still found at once, and forged kids still cost one fetch per cooldown at most.
      if (now - this.#lastUnknownKidRefetchAt < this.options.cooldown) {
        throw new InvalidTokenError('the token is signed with a key the issuer does not publish');
      }
      this.#lastUnknownKidRefetchAt = now;
    }
    await this.#refresh();
    const key = this.#find(header);
    if (key !== undefined) return key;
    // If the refetch failed we cannot tell a new key from a forged kid: say so honestly.
    if (this.#lastError !== undefined) throw this.#unavailable();
    throw new InvalidTokenError('the token is signed with a key the issuer does not publish');
  }

  #findOrReject(header: JWSHeaderParameters): CryptoKey {
    const key = this.#find(header);
    if (key === undefined) throw new InvalidTokenError('the token is signed with a key the issuer does not publish');
    return key;
  }

  #unavailable(): KeySetUnavailableError {
    return new KeySetUnavailableError(this.#lastError ?? new Error('no key set fetched yet'));
  }

  /** One fetch at a time; every caller waiting meanwhile shares its outcome. Never rejects. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    const { options } = this;
    this.#lastAttemptAt = Date.now();
    try {
      this.#jwksUri ??= await options.discovery.endpoint('jwks_uri');
      const { body, headers } = await fetchJson(options.fetch, this.#jwksUri, options.timeout).catch(
        (error: unknown) => {
          // A moved JWKS is found again through discovery next time.
          if (error instanceof FetchError && error.status === 404 && !options.jwksUri) {
            this.#jwksUri = undefined;
            options.discovery.forget();
          }
          throw error;
        },
      );
      const index = await indexKeySet(body, options.algorithms);
      const now = Date.now();
      const lifetime = freshnessLifetime(headers);
      const ttl = Math.min(
        options.maxCacheAge,
        Math.max(options.minCacheAge, lifetime === undefined ? options.defaultCacheAge : lifetime * 1000),
      );
      this.#index = index;
      this.#fetchedAt = now;
      this.#freshUntil = now + ttl;
      this.#usableUntil = now + ttl + options.maxStale;
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = error instanceof Error ? error : new Error(String(error));
    }
  }
}
