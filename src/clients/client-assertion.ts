import { decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { SIGNING_ALGORITHMS } from '../lib/signing-algorithms.js';
import type { KnownClient } from './client-directory.js';
import type { ClientJwk } from './client-key.js';

/** oidc-provider's clockTolerance (its default, which Tollgate keeps): seconds of skew allowed on exp, iat, nbf. */
export const ASSERTION_CLOCK_TOLERANCE = 15;

/** The key type each offered JWS algorithm signs with. */
const KEY_TYPE: Record<(typeof SIGNING_ALGORITHMS)[number], ClientJwk['kty']> = {
  ES256: 'EC',
  RS256: 'RSA',
  PS256: 'RSA',
  EdDSA: 'OKP',
};

/** Imported keys, per JWK object of a directory record (a new record, new keys). */
const imported = new WeakMap<ClientJwk, Map<string, Promise<CryptoKey | Uint8Array>>>();

function keyFor(jwk: ClientJwk, alg: string): Promise<CryptoKey | Uint8Array> {
  let byAlg = imported.get(jwk);
  if (!byAlg) imported.set(jwk, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (!key) byAlg.set(alg, (key = importJWK(jwk as JWK, alg)));
  return key;
}

export interface VerifiedAssertion {
  jti: string;
  exp: number;
}

/**
 * Verifies a private_key_jwt assertion (RFC 7523 §3) as oidc-provider does: signed with one of
 * the client's registered keys (the one its `kid` names, else each of the algorithm's type) by an
 * offered asymmetric algorithm; `iss` and `sub` the client; `aud` one of `audiences`; `exp` and
 * `jti` present, `exp` not past. Whether its jti is new is the caller's to ask. Undefined when
 * anything is wrong: the caller answers invalid_client, without saying which part failed.
 */
export async function verifyClientAssertion(
  assertion: string,
  client: KnownClient,
  audiences: readonly string[],
): Promise<VerifiedAssertion | undefined> {
  if (client.authMethod !== 'private_key_jwt') return undefined;
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return undefined;
  }
  const alg = header.alg as keyof typeof KEY_TYPE;
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) return undefined;
  const candidates = client.jwks.filter((jwk) =>
    header.kid === undefined ? jwk.kty === KEY_TYPE[alg] : jwk.kid === header.kid,
  );
  for (const jwk of candidates) {
    try {
      const { payload } = await jwtVerify(assertion, await keyFor(jwk, alg), {
        algorithms: [alg],
        issuer: client.id,
        subject: client.id,
        audience: [...audiences],
        clockTolerance: ASSERTION_CLOCK_TOLERANCE,
        requiredClaims: ['exp', 'jti'],
      });
      if (typeof payload.jti === 'string' && payload.jti && typeof payload.exp === 'number')
        return { jti: payload.jti, exp: payload.exp };
      return undefined;
    } catch {
      // Another candidate may be the one (two keys of one type during a rotation, no kid).
    }
  }
  return undefined;
}
