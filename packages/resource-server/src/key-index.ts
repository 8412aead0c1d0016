import { importJWK, type JWK } from 'jose';
import type { webcrypto } from 'node:crypto';
import { algorithmsForKey } from './algorithms.js';

type CryptoKey = webcrypto.CryptoKey;

/**
 * One fetched JWKS, imported once into verification keys, so that verifying a token costs two map
 * look-ups (kid, then alg) and no JWK parsing or key import.
 */
export interface KeyIndex {
  /** kid → alg → key; `null` marks a kid+alg that two published keys share (ambiguous: refused). */
  byKid: Map<string, Map<string, CryptoKey | null>>;
  /** alg → every key usable with it, for the rare token without a `kid`. */
  byAlg: Map<string, CryptoKey[]>;
  /** How many keys were usable, for diagnostics. */
  size: number;
}

export const EMPTY_INDEX: KeyIndex = { byKid: new Map(), byAlg: new Map(), size: 0 };

function isUsableForVerification(jwk: Record<string, unknown>): boolean {
  if (typeof jwk.kty !== 'string' || jwk.kty === 'oct') return false;
  // Private parts have no business in a published set; such a key is skipped, never used.
  if (jwk.d !== undefined || jwk.p !== undefined || jwk.priv !== undefined) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return false;
  return jwk.kid === undefined || typeof jwk.kid === 'string';
}

async function importFor(jwk: Record<string, unknown>, alg: string): Promise<CryptoKey | undefined> {
  try {
    const key = await importJWK({ ...jwk, ext: undefined, key_ops: undefined } as JWK, alg);
    return key instanceof Uint8Array || key.type !== 'public' ? undefined : key;
  } catch {
    return undefined; // A key this runtime cannot import cannot verify anything: skip it.
  }
}

/** Builds the index of a JWKS document; keys that are unusable or not allowed are skipped. */
export async function indexKeySet(document: Record<string, unknown>, allowed: readonly string[]): Promise<KeyIndex> {
  if (!Array.isArray(document.keys)) throw new TypeError('the JWKS has no "keys" array');
  const index: KeyIndex = { byKid: new Map(), byAlg: new Map(), size: 0 };
  for (const entry of document.keys as unknown[]) {
    if (typeof entry !== 'object' || entry === null || !isUsableForVerification(entry as Record<string, unknown>))
      continue;
    const jwk = entry as Record<string, unknown>;
    let usable = false;
    for (const alg of algorithmsForKey(jwk, allowed)) {
      const key = await importFor(jwk, alg);
      if (!key) continue;
      usable = true;
      if (typeof jwk.kid === 'string') {
        const byAlg = index.byKid.get(jwk.kid) ?? new Map<string, CryptoKey | null>();
        byAlg.set(alg, byAlg.has(alg) ? null : key);
        index.byKid.set(jwk.kid, byAlg);
      }
      const list = index.byAlg.get(alg) ?? [];
      list.push(key);
      index.byAlg.set(alg, list);
    }
    if (usable) index.size += 1;
  }
  return index;
}
