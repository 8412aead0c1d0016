import crypto from 'node:crypto';
import { open, seal, SealedBoxError } from '../keys/sealed-box.js';
import { sha256Base64url } from '../lib/sha256.js';

/**
 * What oidc-provider persists is keyed by ids that are bearer secrets: refresh tokens,
 * authorization and device codes, opaque access tokens, PAR request ids, the session cookie's
 * value, the interaction cookie's value. The database keeps only a digest of each, so a dump
 * (a backup, a read replica, an SQL injection elsewhere) yields nothing a client could present
 * (RFC 9700 §4.14; RFC 6749 §10.3, §10.4: tokens and codes kept confidential in storage).
 *
 * SHA-256 is enough for these ids: every one is 43 characters of 64 (256 random bits, from
 * oidc-provider's nanoid with `bitsOfOpaqueRandomness` 256), far beyond any guessing, and one
 * unkeyed hash per lookup keeps the token endpoint's hot path as cheap as it was and the
 * migration of existing rows possible in SQL (migrations/005_hashed_payload_ids.ts).
 * User codes are another matter: see UserCodeDigest.
 */

/** Grant ids name a grant, they authorise nothing: kept as they are, so grant_id joins work. */
const STORED_AS_IS = new Set(['Grant']);

/** Every id Tollgate issues: nanoid's 43 characters of the URL-safe alphabet (or a SHA-256, base64url). */
const ISSUED_ID = /^[A-Za-z0-9_-]{43}$/;

/** The id an artefact is stored under: the SHA-256 (base64url) of its id, but for grants. */
export function storedId(kind: string, id: string): string {
  return STORED_AS_IS.has(kind) ? id : sha256Base64url(id);
}

/**
 * Whether an id could be one Tollgate issued. Anything else (wrong length or characters, a NUL
 * byte PostgreSQL would refuse with an error) is simply not found, without touching the database.
 */
export function isIssuedId(id: unknown): id is string {
  return typeof id === 'string' && ISSUED_ID.test(id);
}

/** RFC 8628 §6.1 user codes as Tollgate issues them (charset base-20), normalised by oidc-provider. */
const ISSUED_USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/;

/**
 * A user code is 8 characters of 20 (about 35 bits): its plain SHA-256 is reversed by trying
 * every code in seconds. So it is stored as an HMAC-SHA256 under a server secret, which lives
 * sealed under the key-encryption key, not beside the digests: a database dump alone reveals no
 * user code. (A slow hash would cost every code entry an scrypt and still be a fixed-salt
 * table; the HMAC costs one hash.)
 */
export class UserCodeDigest {
  readonly #key: Buffer;
  readonly #sealingKey: Buffer;

  constructor(secret: string) {
    // Keys of their own, derived from the named server secret (RFC 5869): no other use shares them.
    this.#key = Buffer.from(crypto.hkdfSync('sha256', secret, '', 'tollgate user_code digest v1', 32));
    this.#sealingKey = Buffer.from(crypto.hkdfSync('sha256', secret, '', 'tollgate user_code sealing v1', 32));
  }

  /**
   * A device code found by its user code must be saved again under its own id, which only the
   * device holds: it is kept sealed under a key that needs both the user code and the server
   * secret, so neither a dump nor the person typing the code learns it.
   */
  sealId(userCode: string, id: string): string {
    return seal(this.#keyFor(userCode), id, 'DeviceCode');
  }

  /** The device code's id, or undefined if the sealed value does not open under this user code. */
  openId(userCode: string, sealed: unknown): string | undefined {
    if (typeof sealed !== 'string') return undefined;
    try {
      return open([this.#keyFor(userCode)], sealed, 'DeviceCode');
    } catch (error) {
      if (error instanceof SealedBoxError) return undefined;
      throw error;
    }
  }

  #keyFor(userCode: string): Buffer {
    return crypto.createHmac('sha256', this.#sealingKey).update(userCode).digest();
  }

  /** The digest to store and look up by; undefined for a code Tollgate cannot have issued. */
  of(userCode: unknown): string | undefined {
    if (typeof userCode !== 'string' || !ISSUED_USER_CODE.test(userCode)) return undefined;
    return crypto.createHmac('sha256', this.#key).update(userCode).digest('base64url');
  }
}
