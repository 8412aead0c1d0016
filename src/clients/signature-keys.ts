import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { scopeOwners, type ApiCatalog } from '../apis/api-catalog.js';
import { HMAC_ALGORITHM, type ClientKeyAlgorithm, type PublicJwk } from '../lib/client-public-key.js';
import { ID_PREFIX } from '../lib/ids.js';
import type { ClientDirectory } from './client-directory.js';
import type { ClientKeyService } from './client-key-service.js';
import type { ClientKey } from './client-key.js';
import { clientKeyStore } from './client-key-store.js';

/** A client's key as an API may use it for a signed request: what the signer may do at the asked APIs. */
export interface SignatureKey {
  keyid: string;
  alg: ClientKeyAlgorithm;
  clientId: string;
  /** The public key, for the API to verify with; null for an HMAC key, whose secret stays here. */
  jwk: PublicJwk | null;
  /** The client's allowed scopes of the asked APIs. */
  scopes: string[];
  /** The asked APIs owning those scopes. */
  audience: string[];
}

/** What a keyid looks like (ids.ts: `ck_` + 16 random bytes, base64url); anything else is no key's. */
const KEYID = new RegExp(`^${ID_PREFIX.clientKey}[A-Za-z0-9_-]{22}$`);

export function looksLikeKeyid(value: string): boolean {
  return KEYID.test(value);
}

/** Looked up when no key matched: no client id is empty (ids are `client_…`). */
const NO_CLIENT = '';
/** HMAC-ed with when the key is unknown or not an HMAC key, so a refusal computes what an acceptance does. */
const NO_SECRET = 'tgh_';
const HMAC_BYTES = 32;

/**
 * The keys of signed requests (RFC 9421), as the two endpoints an API asks see them
 * (src/http/signature-endpoints.ts): a keyid → its row (read every time: a removed key is gone at
 * once on every instance) → its client, present and enabled (ClientDirectory: a change reaches
 * every instance within 5 s) → the client's allowed scopes of the asked APIs (ApiCatalog).
 *
 * The path is the same for every refusal, as for API keys (src/api-keys/api-key-verifier.ts): a
 * missing row still reads a client (one nobody has) and the catalog, and `hmacMatches` computes
 * and compares an HMAC whether or not there is a secret. Keyids are not secrets (every signed
 * request shows one), so telling whether a keyid exists is no leak; a secret is: it is compared
 * only in constant time, and never leaves this class but as the HMAC's key.
 */
export class SignatureKeys {
  constructor(
    private readonly db: Knex,
    private readonly catalog: ApiCatalog,
    private readonly directory: ClientDirectory,
    private readonly clientKeys: ClientKeyService,
  ) {}

  /** The key, when it exists, its client is enabled and allowed a scope of one of `audiences`. */
  async lookup(keyid: string, audiences: readonly string[]): Promise<SignatureKey | undefined> {
    if (!looksLikeKeyid(keyid)) return undefined;
    return this.#usable(await clientKeyStore.byKeyid(this.db, keyid), audiences);
  }

  /**
   * The key, as `lookup` answers it, and its HMAC secret when it is an HMAC key, from one read of
   * its row (the verification endpoint's round trips are its latency). An HMAC key whose secret
   * does not open (altered in the database, or sealed under a key-encryption key no longer
   * configured) is no usable key: answered as an unknown one, and logged (SealedRecords).
   */
  async lookupWithSecret(
    keyid: string,
    audiences: readonly string[],
  ): Promise<{ key: SignatureKey | undefined; secret: string | undefined }> {
    if (!looksLikeKeyid(keyid)) return { key: undefined, secret: undefined };
    const row = await clientKeyStore.byKeyidWithSecret(this.db, keyid);
    const key = await this.#usable(row?.key, audiences);
    if (key?.alg !== HMAC_ALGORITHM) return { key, secret: undefined };
    const secret = row?.secretSealed ? this.clientKeys.openSecret(keyid, row.secretSealed) : undefined;
    return secret === undefined ? { key: undefined, secret: undefined } : { key, secret };
  }

  /** A key found (or not) → its client, present and enabled, and its scopes of the asked APIs. */
  async #usable(key: ClientKey | undefined, audiences: readonly string[]): Promise<SignatureKey | undefined> {
    const [client, snapshot] = await Promise.all([
      this.directory.find(key?.clientId ?? NO_CLIENT),
      this.catalog.snapshot(),
    ]);
    const scopes = (client?.scopes ?? []).filter((scope) =>
      audiences.includes(snapshot.byScope.get(scope)?.identifier as string),
    );
    const { owners } = scopeOwners(snapshot, scopes);
    if (!key || !client || owners.size === 0) return undefined;
    return {
      keyid: key.keyid,
      alg: key.alg,
      clientId: key.clientId,
      jwk: key.publicJwk,
      scopes,
      audience: [...owners.keys()],
    };
  }

  /**
   * Whether `signature` is HMAC-SHA256 of `signatureBase` under `secret` (its UTF-8 bytes, exactly
   * as shown once). False without a secret, after the same work.
   */
  hmacMatches(secret: string | undefined, signatureBase: string, signature: Buffer): boolean {
    const expected = crypto
      .createHmac('sha256', Buffer.from(secret ?? NO_SECRET, 'utf8'))
      .update(signatureBase, 'utf8')
      .digest();
    // A signature of another length is refused by its length, which its sender knows; the
    // comparison runs anyway, against zeros.
    const presented = signature.length === HMAC_BYTES ? signature : Buffer.alloc(HMAC_BYTES);
    const equal = crypto.timingSafeEqual(expected, presented);
    return equal && signature.length === HMAC_BYTES && secret !== undefined;
  }
}
