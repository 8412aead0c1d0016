import { ASYMMETRIC_ALGORITHMS, checkAlgorithms } from './algorithms.js';
import type { Fetch } from './http.js';
import type { KeySetOptions } from './key-set.js';
import { MemoryReplayCache, type ReplayCache } from './replay-cache.js';
import type { DPoPSettings } from './dpop.js';
import { Discovery, type IssuerClientOptions } from './discovery.js';

/** Every duration is in seconds, like JWT claims and `Cache-Control`. Defaults are in the README. */
export interface VerifierOptions {
  /** The issuer identifier, exactly as in the tokens' `iss` and in the discovery document. */
  issuer: string;
  /** This API's identifier (the `resource` it is registered with); `aud` must contain one of them. */
  audience: string | readonly string[];
  /** Token signature algorithms accepted; asymmetric only. Default: every one supported. */
  algorithms?: readonly string[];
  /** Clock skew tolerated when checking `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number;
  /** Refuse tokens whose `iat` is older than this, whatever their `exp`. Default: no limit. */
  maxTokenAge?: number;
  /** The JWKS URL, to skip discovery. Default: `jwks_uri` from the issuer's discovery document. */
  jwksUri?: string;
  /** Minimum time between two key-set fetches caused by unknown `kid`s or a failing issuer. Default 30. */
  cooldown?: number;
  /** Time limit for each discovery or JWKS request. Default 5. */
  timeout?: number;
  /** Lower bound on how long a fetched key set is used before refetching, whatever `max-age` says. Default 30. */
  minCacheAge?: number;
  /** Upper bound on the same: how long a withdrawn key can at most stay trusted. Default 3600. */
  maxCacheAge?: number;
  /** How long past its freshness the last key set keeps serving while the issuer is unreachable. Default 3600. */
  maxStale?: number;
  dpop?: {
    /** Algorithms accepted for DPoP proofs (advertised in `algs`). Default: every asymmetric one. */
    algorithms?: readonly string[];
    /** How far a proof's `iat` may be from now, either way. Default 60. */
    iatWindow?: number;
    /** Where used proof `jti`s are remembered. Default: in memory, 100 000 entries. */
    replayCache?: ReplayCache;
  };
  /**
   * How long Tollgate's answer about an API key (valid or not) is reused. Default 1, at most 5: a
   * revoked key must be refused everywhere within 5 seconds.
   */
  apiKeyCacheSeconds?: number;
  /** The fetch implementation (a proxy-aware one, say). Default: the global `fetch`. */
  fetch?: Fetch;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string[];
  algorithms: readonly string[];
  clockTolerance: number;
  maxTokenAge: number | undefined;
  keySet: KeySetOptions;
  dpop: DPoPSettings;
  apiKeys: IssuerClientOptions;
  signatures: IssuerClientOptions;
}

/** Keys whose answers are cached at most: the oldest is dropped past it (10 000 × ~1 KB). */
const API_KEY_CACHE_ENTRIES = 10_000;
/** The contract: a revoked key is refused everywhere within 5 s. */
const MAX_API_KEY_CACHE_SECONDS = 5;

/**
 * The longest a signature key's lookup is reused: the contract's "a removed key disappears within
 * 5 s". Tollgate's `cache_seconds` may shorten it, never lengthen it.
 */
const SIGNATURE_KEY_CACHE_SECONDS = 5;

/** When the JWKS response has no caching headers. */
const DEFAULT_CACHE_AGE = 300;

function seconds(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (typeof result !== 'number' || !Number.isFinite(result) || result < 0)
    throw new TypeError(`${name} must be a non-negative number of seconds`);
  return result;
}

/** Validates the options once, at construction, so that a typo fails at start-up, not per request. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options?.issuer !== 'string' || !URL.canParse(options.issuer)) throw new TypeError('issuer must be a URL');
  const audience = typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])];
  if (audience.length === 0 || audience.some((value) => typeof value !== 'string' || value === '')) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  if (options.jwksUri !== undefined && !URL.canParse(options.jwksUri)) throw new TypeError('jwksUri must be a URL');
  const algorithms = checkAlgorithms('algorithms', options.algorithms ?? ASYMMETRIC_ALGORITHMS);
  const minCacheAge = seconds('minCacheAge', options.minCacheAge, 30);
  const maxCacheAge = seconds('maxCacheAge', options.maxCacheAge, 3600);
  if (maxCacheAge < minCacheAge) throw new TypeError('maxCacheAge must not be below minCacheAge');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch implementation available');
  const timeout = seconds('timeout', options.timeout, 5) * 1000;
  const discovery = new Discovery(fetchImpl, options.issuer, timeout);
  const apiKeyCacheSeconds = seconds('apiKeyCacheSeconds', options.apiKeyCacheSeconds, 1);
  if (apiKeyCacheSeconds > MAX_API_KEY_CACHE_SECONDS)
    throw new TypeError(`apiKeyCacheSeconds must be at most ${MAX_API_KEY_CACHE_SECONDS}`);

  return {
    issuer: options.issuer,
    audience,
    algorithms,
    clockTolerance: seconds('clockTolerance', options.clockTolerance, 5),
    maxTokenAge: options.maxTokenAge === undefined ? undefined : seconds('maxTokenAge', options.maxTokenAge, 0),
    keySet: {
      discovery,
      jwksUri: options.jwksUri,
      algorithms,
      fetch: fetchImpl,
      timeout,
      cooldown: seconds('cooldown', options.cooldown, 30) * 1000,
      minCacheAge: minCacheAge * 1000,
      maxCacheAge: maxCacheAge * 1000,
      defaultCacheAge: DEFAULT_CACHE_AGE * 1000,
      maxStale: seconds('maxStale', options.maxStale, 3600) * 1000,
    },
    dpop: {
      algorithms: checkAlgorithms('dpop.algorithms', options.dpop?.algorithms ?? ASYMMETRIC_ALGORITHMS),
      iatWindow: seconds('dpop.iatWindow', options.dpop?.iatWindow, 60),
      replayCache: options.dpop?.replayCache ?? new MemoryReplayCache(),
    },
    apiKeys: {
      discovery,
      fetch: fetchImpl,
      audience,
      timeout,
      cacheTime: apiKeyCacheSeconds * 1000,
      maxEntries: API_KEY_CACHE_ENTRIES,
    },
    signatures: {
      discovery,
      fetch: fetchImpl,
      audience,
      timeout,
      cacheTime: SIGNATURE_KEY_CACHE_SECONDS * 1000,
      // As many keyids as API keys: a flood of made-up keyids cannot grow the cache past it.
      maxEntries: API_KEY_CACHE_ENTRIES,
    },
  };
}
