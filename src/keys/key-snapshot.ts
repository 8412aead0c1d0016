import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { SigningAlgorithm } from '../lib/signing-algorithms.js';
import { ringFingerprint } from './ring-fingerprint.js';
import type { KeyState, SigningKeyRow } from './signing-key-store.js';

export interface LoadedKey extends SigningKeyRow {
  privateJwk: JWK;
}

const STATE_ORDER: Record<KeyState, number> = { current: 0, next: 1, previous: 2 };

/**
 * The key ring as one instance uses it at one moment. A Provider is built from a snapshot and
 * keeps it: the kid it signs with is always one its own keystore holds, even while a newer
 * snapshot is being swapped in.
 */
export class KeySnapshot {
  readonly keys: readonly LoadedKey[];
  /** Public keys of every published key, for checking tokens Tollgate issued. */
  readonly verificationKeys: JWTVerifyGetKey;
  /** Which keys and states this snapshot holds (see ringFingerprint). */
  readonly fingerprint: string;

  constructor(keys: LoadedKey[]) {
    this.keys = [...keys].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
    this.verificationKeys = createLocalJWKSet({ keys: this.keys.map((key) => key.publicJwk) });
    this.fingerprint = ringFingerprint(keys);
  }

  get hasCurrentKeys(): boolean {
    return this.keys.some((key) => key.state === 'current');
  }

  /** The kid that signs tokens of this algorithm. */
  currentKid(alg: SigningAlgorithm): string {
    const key = this.keys.find((candidate) => candidate.alg === alg && candidate.state === 'current');
    if (!key) throw new Error(`the key ring has no current ${alg} key`);
    return key.kid;
  }

  /**
   * Private JWKs for oidc-provider's keystore, which publishes their public halves at jwks_uri.
   * Current keys come first: where oidc-provider picks "the first key for this alg" (ID tokens),
   * that is the current one.
   */
  providerJwks(): JWK[] {
    return this.keys.map((key) => key.privateJwk);
  }
}
