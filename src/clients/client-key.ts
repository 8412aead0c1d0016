import type { ClientKeyAlgorithm, PublicJwk } from '../lib/client-public-key.js';

/**
 * One of a client's keys: a public key it registered, or an HMAC secret Tollgate generated for it.
 *
 * Its `keyid` (what the partner puts in a signature's keyid, and in an assertion's `kid`) is a
 * generated id (`ck_…`), not the key's thumbprint: an HMAC secret has no thumbprint, so one kind
 * of id serves both; it is unique across clients, so a keyid alone names the key and the client
 * it belongs to even when one partner registers the same public key on two of its clients; and a
 * key removed and registered again is a new keyid, so nothing signed for the old one comes back
 * to life. The thumbprint is still shown, for the partner to check which key it is.
 */
export interface ClientKey {
  keyid: string;
  clientId: string;
  alg: ClientKeyAlgorithm;
  /** Null for an HMAC key. */
  publicJwk: PublicJwk | null;
  thumbprint: string | null;
  createdAt: Date;
}

/** The admin API's and CLI's JSON shape: never the secret, never its sealed form. */
export function clientKeyToJson(key: ClientKey) {
  return {
    keyid: key.keyid,
    alg: key.alg,
    ...(key.thumbprint === null ? {} : { thumbprint: key.thumbprint }),
    created_at: key.createdAt.toISOString(),
  };
}

/** A public key as the client's JWK Set holds it for oidc-provider: its own members and its keyid as `kid`. */
export type ClientJwk = PublicJwk & { kid: string };
