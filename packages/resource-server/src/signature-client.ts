import type { JsonWebKey } from 'node:crypto';
import type { Endpoint, IssuerClientOptions } from './discovery.js';
import {
  ACCEPT_SIGNATURE,
  ACCEPT_SIGNATURE_WITH_BODY,
  InvalidSignatureError,
  IssuerUnavailableError,
  ResourceServerError,
} from './errors.js';
import { FetchError, postForm } from './http.js';
import type { ReplayCache } from './replay-cache.js';
import type { HttpRequest } from './request.js';
import {
  isSignatureAlgorithm,
  localSignatureKey,
  type SignatureAlgorithm,
  type SignatureKey,
} from './signature-algorithms.js';
import { hasBody, verifySignedRequest } from './verify-signature.js';

/** What an API keeps as proof that the holder of a partner's private key sent exactly this request. */
export interface SignatureEvidence {
  /** The exact text that was signed (RFC 9421 §2.5): method, URL, content digest, parameters. */
  signatureBase: string;
  /** The signature, base64. */
  signature: string;
  /** The `Signature-Input` member as verified (`sig1=(…);created=…`). */
  signatureInput: string;
  keyid: string;
  /** Seconds since the epoch, as signed. */
  created: number;
}

/** Who sent a signed request (RFC 9421), as Tollgate knows the key's client. */
export interface SignatureCaller {
  scheme: 'signature';
  /** The client the key belongs to, as `sub` of a client-credentials token. */
  sub: string;
  client_id: string;
  /** Space-separated scopes of this API the client is allowed. */
  scope: string;
  /** The audience (or audiences) of this API the client reaches. */
  aud: string | string[];
  /** The key's id (`ck_…`), as in the signature. */
  keyid: string;
  alg: SignatureAlgorithm;
  /** When the request was signed, seconds since the epoch. */
  created: number;
  nonce: string;
  /** Public keys only: an HMAC signature proves nothing to a third party (Tollgate holds the secret too). */
  evidence?: SignatureEvidence;
}

/** What Tollgate says of a key and its client. */
interface KeyAnswer {
  keyid: string;
  alg: SignatureAlgorithm;
  sub: string;
  client_id: string;
  scope: string;
  aud: string | string[];
  /** The public key, verifying locally; `undefined` for an HMAC key (its secret never leaves Tollgate). */
  key: SignatureKey | undefined;
}

interface Entry {
  /** `undefined`: no such key for this API (unknown, removed, disabled client, no scope here). */
  answer: KeyAnswer | undefined;
  /** `Date.now()` until which the answer is reused without asking. */
  freshUntil: number;
  /** The lookup in flight for this keyid, shared by every request for it meanwhile. */
  asking: Promise<KeyAnswer | undefined> | undefined;
}

const UNAVAILABLE = 'the signature cannot be verified now; try again later';

/**
 * The core's replay check, switched off: the nonce is registered with Tollgate instead (below),
 * which every instance of the API asks, so a replay to another instance is refused too. No local
 * pre-check of seen nonces either: it would only spare a replay (an attack, not the normal path)
 * one round trip, while Tollgate must be asked anyway for every genuine request.
 */
const TOLLGATE_DECIDES: ReplayCache = { use: () => true };

/**
 * An HMAC key as the core sees it: the signature is not checked here (the secret never leaves
 * Tollgate) but by the verification endpoint, which every HMAC-signed request goes through.
 */
const hmacKey = (): SignatureKey => ({ alg: 'hmac-sha256', verify: () => true });

function isAudience(value: unknown): value is string | string[] {
  return typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
}

/** Reads an `active: true` answer of either endpoint; anything unexpected is a FetchError (503, never a guess). */
function readCaller(body: Record<string, unknown>, keyid: string, what: string) {
  const { alg, client_id, sub, scope, aud } = body;
  if (
    body.active !== true ||
    body.keyid !== keyid ||
    !isSignatureAlgorithm(alg) ||
    typeof client_id !== 'string' ||
    typeof sub !== 'string' ||
    typeof scope !== 'string' ||
    !isAudience(aud)
  )
    throw new FetchError(`the ${what} answer is malformed`);
  return { keyid, alg, client_id, sub, scope, aud };
}

/** A public JWK Tollgate published, as a key of the algorithm it names (a mismatch is Tollgate's error: 503). */
function importKey(alg: SignatureAlgorithm, jwk: unknown): SignatureKey | undefined {
  if (alg === 'hmac-sha256') {
    if (jwk !== undefined) throw new FetchError('the signature key lookup answer has a jwk for an HMAC key');
    return undefined;
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || 'd' in jwk || 'k' in jwk)
    throw new FetchError('the signature key lookup answer has no public jwk');
  try {
    // localSignatureKey checks the key fits the algorithm: an RSA JWK for ed25519 is refused.
    return localSignatureKey(alg, jwk as JsonWebKey);
  } catch (cause) {
    throw new FetchError(`the signature key lookup answer's jwk is not a ${alg} key`, undefined, { cause });
  }
}

/**
 * Verifies RFC 9421 signed requests with Tollgate, per the protocol agreed with the server for
 * issue 18:
 *
 * - Everything that can be checked locally is, first (the core, verify-signature.ts): a malformed,
 *   stale or tampered request costs no network call.
 * - The key: `signature_key_lookup_endpoint`, per keyid, cached at most `cacheTime` and Tollgate's
 *   `cache_seconds` (≤ 5 s: a removed key is refused everywhere within 5 s), one lookup in flight
 *   per keyid. Public keys verify here with the published JWK.
 * - Then `signature_verification_endpoint`: for a public key it records the nonce; for an HMAC key
 *   it checks the signature too, in the same call. Only after that call says active is the request
 *   accepted: a nonce is refused across every instance of the API.
 * - Tollgate failing (network, timeout, 5xx, its 429, an answer that cannot be read) is a 503 for
 *   that request, never a 401, and is not cached.
 */
export class SignatureClient {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly options: IssuerClientOptions) {}

  /** Resolves to the caller of a valid signed request; rejects with a ResourceServerError. */
  async verify(request: HttpRequest): Promise<SignatureCaller> {
    let looked: KeyAnswer | undefined;
    const verified = await verifySignedRequest(request, {
      resolveKey: async (keyid) => {
        looked = await this.#lookup(keyid);
        if (looked === undefined) return undefined;
        return looked.key ?? hmacKey();
      },
      replayCache: TOLLGATE_DECIDES,
    });
    const key = looked!;
    const hmac = key.key === undefined;
    const form = new URLSearchParams({
      keyid: verified.keyid,
      nonce: verified.nonce,
      created: String(verified.created),
    });
    if (hmac) {
      form.set('signature_base', verified.signatureBase);
      form.set('signature', verified.signature);
    }
    const confirmed = await this.#ask('signature_verification_endpoint', form, verified.keyid);
    if (confirmed === undefined || confirmed.alg !== key.alg) {
      const accept = hasBody(request) ? ACCEPT_SIGNATURE_WITH_BODY : ACCEPT_SIGNATURE;
      throw new InvalidSignatureError(
        hmac
          ? 'the signature does not verify, or its nonce has been used before'
          : 'the nonce has been used before, or the key is no longer valid',
        accept,
      );
    }
    const caller: SignatureCaller = {
      scheme: 'signature',
      sub: confirmed.sub,
      client_id: confirmed.client_id,
      scope: confirmed.scope,
      aud: confirmed.aud,
      keyid: verified.keyid,
      alg: key.alg,
      created: verified.created,
      nonce: verified.nonce,
    };
    if (!hmac)
      caller.evidence = {
        signatureBase: verified.signatureBase,
        signature: verified.signature,
        signatureInput: verified.signatureInput,
        keyid: verified.keyid,
        created: verified.created,
      };
    return caller;
  }

  /** The key a keyid names for this API, from the cache or Tollgate; `undefined` when there is none. */
  async #lookup(keyid: string): Promise<KeyAnswer | undefined> {
    const entry = this.#entries.get(keyid);
    // Everyone waiting shares the answer (or the 503) of the lookup in flight.
    if (entry?.asking !== undefined) return entry.asking;
    if (entry !== undefined && Date.now() < entry.freshUntil) return entry.answer;
    const fresh: Entry = { answer: undefined, freshUntil: 0, asking: undefined };
    const asking = this.#ask('signature_key_lookup_endpoint', new URLSearchParams({ keyid }), keyid).then((answer) => {
      fresh.answer = answer;
      fresh.freshUntil = Date.now() + Math.min(this.options.cacheTime, answer?.cacheTime ?? Infinity);
      return answer;
    });
    fresh.asking = asking;
    this.#remember(keyid, fresh);
    try {
      return await asking;
    } catch (error) {
      // Not cached: the next request asks again.
      if (this.#entries.get(keyid) === fresh) this.#entries.delete(keyid);
      throw error;
    } finally {
      fresh.asking = undefined;
    }
  }

  /** Asks one of the two endpoints; `undefined` for `active: false`. */
  async #ask(
    endpointName: Extract<Endpoint, `signature_${string}`>,
    form: URLSearchParams,
    keyid: string,
  ): Promise<(KeyAnswer & { cacheTime: number | undefined }) | undefined> {
    const { discovery, fetch, timeout, audience } = this.options;
    for (const value of audience) form.append('audience', value);
    const lookup = endpointName === 'signature_key_lookup_endpoint';
    try {
      const endpoint = await discovery.endpoint(endpointName);
      const { body } = await postForm(fetch, endpoint, form, timeout).catch((error: unknown) => {
        // A moved endpoint is found again through discovery next time.
        if (error instanceof FetchError && error.status === 404) discovery.forget();
        throw error;
      });
      if (body.active === false) return undefined;
      const what = lookup ? 'signature key lookup' : 'signature verification';
      const caller = readCaller(body, keyid, what);
      const seconds = body.cache_seconds;
      if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0))
        throw new FetchError(`the ${what} answer has a malformed cache_seconds`);
      return {
        ...caller,
        key: lookup ? importKey(caller.alg, body.jwk) : undefined,
        cacheTime: seconds === undefined ? undefined : seconds * 1000,
      };
    } catch (error) {
      if (error instanceof ResourceServerError) throw error;
      throw new IssuerUnavailableError(error, UNAVAILABLE);
    }
  }

  /** Inserts (or moves to the newest place) and evicts the oldest past the bound. */
  #remember(keyid: string, entry: Entry): void {
    this.#entries.delete(keyid);
    this.#entries.set(keyid, entry);
    if (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
