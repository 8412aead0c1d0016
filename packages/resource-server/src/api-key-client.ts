import { hash } from 'node:crypto';
import type { IssuerClientOptions } from './discovery.js';
import {
  InvalidTokenError,
  IssuerUnavailableError,
  RateLimitedError,
  ResourceServerError,
  type RateLimitState,
} from './errors.js';
import { FetchError, postForm } from './http.js';

/** What the API learns about the caller of a valid key. */
export interface ApiKeyCaller {
  scheme: 'api-key';
  /** The client the key belongs to (`client_…`), as `sub` of a client-credentials token. */
  sub: string;
  client_id: string;
  /** Space-separated scopes of this API the key carries. */
  scope: string;
  /** The audience (or audiences) of this API the key reaches. */
  aud: string | string[];
  /** The key's id (`key_…`), safe to log: never the key itself. */
  key_id: string;
  /** When the key expires (seconds since the epoch), if it does. */
  exp?: number;
  /** The key's rate limit as it stands after this request, when the key has one. */
  rateLimit?: RateLimitState;
}

/** The one description of every refused key: why it was refused is nobody's business but the operator's. */
export const INVALID_API_KEY = 'the API key is not valid';

/** Points Tollgate granted this process for a key: spent locally, one per request. */
interface Lease {
  points: number;
  /** `Date.now()` when the window ends and the lease is void. */
  resetAt: number;
  /** What the shared count had left after the grant, across every instance. */
  remaining: number;
}

interface Entry {
  /** The answer, `undefined` for a refused key. */
  caller: Omit<ApiKeyCaller, 'rateLimit'> | undefined;
  /** The key's rate limit (`rate_limit`), parsed; `undefined` when it has none. */
  limit: { limit: number; window: number } | undefined;
  /** `Date.now()` until which the answer is reused without asking. */
  freshUntil: number;
  lease: Lease | undefined;
  /** Tollgate's counter store did not answer: the key is served unlimited until the answer expires (fail open). */
  unmetered: boolean;
  /** The question being asked about this key, shared by every request for it meanwhile. */
  asking: Promise<void> | undefined;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, sec: 1, min: 60, h: 3600 };

/** `100/min`, `10/s`, `1000/h`, `20/5min`: the spellings Tollgate writes a key's rate limit in. */
function parseRate(text: unknown): { limit: number; window: number } | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(\d{1,7})\/(\d{1,5})?(s|sec|min|h)$/.exec(text);
  if (!match) return undefined;
  return { limit: Number(match[1]), window: Number(match[2] ?? 1) * UNIT_SECONDS[match[3]!]! };
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Reads Tollgate's answer; anything unexpected means Tollgate cannot be understood: 503, never a guess. */
function readAnswer(body: Record<string, unknown>) {
  if (body.active === false) return { caller: undefined };
  const { client_id, sub, scope, aud, key_id, exp } = body;
  const audOk = typeof aud === 'string' || (Array.isArray(aud) && aud.every((value) => typeof value === 'string'));
  if (
    body.active !== true ||
    typeof client_id !== 'string' ||
    typeof sub !== 'string' ||
    typeof scope !== 'string' ||
    typeof key_id !== 'string' ||
    !audOk ||
    (exp !== undefined && typeof exp !== 'number')
  )
    throw new FetchError('the API key verification answer is malformed');
  const caller = {
    scheme: 'api-key' as const,
    sub,
    client_id,
    scope,
    aud: aud as string | string[],
    key_id,
    ...(exp === undefined ? {} : { exp: exp as number }),
  };
  const limit = body.rate_limit === undefined ? undefined : parseRate(body.rate_limit);
  if (body.rate_limit !== undefined && limit === undefined)
    throw new FetchError('the API key verification answer has a malformed rate_limit');
  const { rate_limit_granted: granted, rate_limit_remaining: remaining, rate_limit_reset: reset } = body;
  const grant =
    granted === undefined ? undefined : isCount(granted) && isCount(remaining) && isCount(reset) && reset >= 1;
  if (grant === false) throw new FetchError('the API key verification answer has malformed rate_limit fields');
  return {
    caller,
    limit,
    grant: grant ? { granted: granted as number, remaining: remaining as number, reset: reset as number } : undefined,
  };
}

/**
 * Asks Tollgate whether API keys are valid for this API (`api_key_verification_endpoint`), and
 * spends the rate-limit points it grants. The protocol is the one agreed with the server for
 * issue 17; the parts that shape this class:
 *
 * - Answers, active or not, are reused for `cacheTime` (≤ 5 s, so a revoked key is refused
 *   everywhere within 5 s), keyed by the key's SHA-256: the map never holds a usable key.
 * - One question in flight per key: concurrent requests for it wait and share the answer, and
 *   the points it grants.
 * - A rate-limited key's points are spent one per request; when none is left Tollgate is asked for
 *   more (`consume=1`). When only the answer has expired but points remain, Tollgate is asked to
 *   verify alone (`consume=0`), so a key used slowly is not charged for points it never spent.
 * - Tollgate failing (network, timeout, 5xx, its 429) is a 503 for that request and is not cached.
 */
export class ApiKeyClient {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly options: IssuerClientOptions) {}

  /** `key` has passed the local shape and checksum check already. */
  async verify(key: string): Promise<ApiKeyCaller> {
    const id = hash('sha256', key, 'base64url');
    for (;;) {
      const entry = this.#entries.get(id);
      if (entry?.asking) {
        try {
          await entry.asking;
        } catch (error) {
          // Tollgate could not be asked: everyone waiting hears so now, rather than each asking in turn.
          if (error instanceof IssuerUnavailableError) throw error;
          // Otherwise the asker was refused (invalid, rate-limited): the answer is fresh, read it below.
        }
        continue;
      }
      const now = Date.now();
      if (entry !== undefined && now < entry.freshUntil) {
        const served = this.#serve(entry, now);
        if (served !== undefined) return served;
      }
      // Verify only, when the answer expired but granted points are left in a window still open.
      const holding = entry?.caller !== undefined && entry.lease !== undefined && now < entry.lease.resetAt;
      const consume = !(holding && entry.lease!.points > 0 && now >= entry.freshUntil);
      const asked = await this.#ask(id, key, entry, consume);
      if (asked !== undefined) return asked;
    }
  }

  /**
   * The caller from a fresh answer, spending a point if the key is rate-limited; throws for a refused
   * or exhausted key; `undefined` when Tollgate must be asked for more points.
   */
  #serve(entry: Entry, now: number): ApiKeyCaller | undefined {
    if (entry.caller === undefined) throw new InvalidTokenError(INVALID_API_KEY);
    if (entry.limit === undefined || entry.unmetered) {
      // Copies: a handler adding to its caller object must not change what the next request gets.
      return entry.limit === undefined ? { ...entry.caller } : { ...entry.caller, rateLimit: { ...entry.limit } };
    }
    const lease = entry.lease;
    if (lease === undefined || now >= lease.resetAt) return undefined;
    const reset = Math.max(1, Math.ceil((lease.resetAt - now) / 1000));
    if (lease.points > 0) {
      lease.points -= 1;
      const rateLimit = { ...entry.limit, remaining: lease.remaining + lease.points, reset };
      return { ...entry.caller, rateLimit };
    }
    // Granted 0: the window is full everywhere, nothing to ask until it ends or the answer expires.
    if (lease.remaining === 0) throw new RateLimitedError(reset, { ...entry.limit, remaining: 0, reset });
    return undefined;
  }

  /**
   * Asks Tollgate, stores the answer, and serves the asking request from it. `undefined` when the
   * answer leaves nothing to serve it with (a verify-only answer after the window ended): ask again.
   */
  async #ask(
    id: string,
    key: string,
    previous: Entry | undefined,
    consume: boolean,
  ): Promise<ApiKeyCaller | undefined> {
    const entry: Entry = previous ?? {
      caller: undefined,
      limit: undefined,
      freshUntil: 0,
      lease: undefined,
      unmetered: false,
      asking: undefined,
    };
    let served: ApiKeyCaller | undefined;
    const asking = this.#question(key, consume).then((answer) => {
      const now = Date.now();
      entry.caller = answer.caller;
      entry.limit = answer.caller === undefined ? undefined : answer.limit;
      entry.freshUntil = now + this.options.cacheTime;
      if (answer.caller?.exp !== undefined) entry.freshUntil = Math.min(entry.freshUntil, answer.caller.exp * 1000);
      entry.unmetered = false;
      if (entry.caller === undefined || entry.limit === undefined) entry.lease = undefined;
      else if (answer.grant !== undefined) {
        const { granted, remaining, reset } = answer.grant;
        // Granted nothing: the window is full, whatever else the answer says (no asking again in a loop).
        entry.lease = { points: granted, remaining: granted === 0 ? 0 : remaining, resetAt: now + reset * 1000 };
      } else if (consume) {
        // Asked to count and nothing counted: Tollgate's counter store is down. Fail open, as the
        // server does for its own limits, until the answer expires.
        entry.unmetered = true;
        entry.lease = undefined;
      }
      // Served here, before anyone waiting runs, so the asker gets the point it asked for.
      served = this.#serve(entry, now);
    });
    entry.asking = asking;
    this.#remember(id, entry);
    try {
      await asking;
    } finally {
      entry.asking = undefined;
    }
    return served;
  }

  async #question(key: string, consume: boolean) {
    const { discovery, fetch, timeout, audience } = this.options;
    const form = new URLSearchParams({ token: key });
    for (const value of audience) form.append('audience', value);
    form.set('consume', consume ? '1' : '0');
    try {
      const endpoint = await discovery.endpoint('api_key_verification_endpoint');
      const { body } = await postForm(fetch, endpoint, form, timeout).catch((error: unknown) => {
        // A moved endpoint is found again through discovery next time.
        if (error instanceof FetchError && error.status === 404) discovery.forget();
        throw error;
      });
      return readAnswer(body);
    } catch (error) {
      if (error instanceof ResourceServerError) throw error;
      throw new IssuerUnavailableError(error);
    }
  }

  /** Inserts (or moves to the newest place) and evicts the oldest past the bound. */
  #remember(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    if (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
