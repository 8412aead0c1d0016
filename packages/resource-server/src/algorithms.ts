/**
 * The JWS algorithms this library will ever verify: asymmetric only. `none` and HS* are absent by
 * construction, so no option can turn them on (the key-confusion attack — HS256 keyed with the
 * issuer's public key — has nothing to land on).
 */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
  'Ed25519',
] as const;

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const SUPPORTED: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

/** Checks a user-supplied algorithm list: non-empty, asymmetric only. */
export function checkAlgorithms(label: string, algorithms: readonly string[]): readonly string[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError(`${label} must be a non-empty array`);
  for (const alg of algorithms) {
    if (!SUPPORTED.has(alg))
      throw new TypeError(`${label}: "${alg}" is not an asymmetric JWS algorithm this library supports`);
  }
  return [...new Set(algorithms)];
}

/**
 * The algorithms a published key may verify. A key that declares `alg` gets exactly that one (RFC
 * 7517 §4.4); one that does not gets what its type and curve allow, which for RSA means both the
 * PKCS#1 v1.5 and the PSS family — still only asymmetric, still bound to that key's material.
 */
export function algorithmsForKey(
  jwk: { kty?: unknown; crv?: unknown; alg?: unknown },
  allowed: readonly string[],
): string[] {
  if (jwk.alg !== undefined) return typeof jwk.alg === 'string' && allowed.includes(jwk.alg) ? [jwk.alg] : [];
  let candidates: string[];
  switch (jwk.kty) {
    case 'EC':
      candidates =
        jwk.crv === 'P-256' ? ['ES256'] : jwk.crv === 'P-384' ? ['ES384'] : jwk.crv === 'P-521' ? ['ES512'] : [];
      break;
    case 'OKP':
      candidates = jwk.crv === 'Ed25519' ? ['EdDSA', 'Ed25519'] : [];
      break;
    case 'RSA':
      candidates = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
      break;
    default:
      candidates = [];
  }
  return candidates.filter((alg) => allowed.includes(alg));
}
