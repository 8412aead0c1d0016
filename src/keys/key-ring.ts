import type { Knex } from 'knex';
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js';
import { generateSigningKey } from './generate-key.js';
import { open, seal } from './sealed-box.js';
import { signingKeyStore, type KeyState, type SigningKeyRow } from './signing-key-store.js';

/** Arbitrary but fixed: the advisory lock under which the ring is changed. */
const KEY_RING_LOCK = 7_411_002;

export interface PublicKeyInfo {
  kid: string;
  alg: SigningAlgorithm;
  state: KeyState;
  created_at: string;
  published_at: string;
  activated_at: string | null;
  retired_at: string | null;
  remove_after: string | null;
}

interface LoadedKey extends SigningKeyRow {
  privateJwk: JWK;
}

const STATE_ORDER: Record<KeyState, number> = { current: 0, next: 1, previous: 2 };

/**
 * The signing-key ring: for every algorithm a `current` key that signs and a `next` key that is
 * already published, so the next rotation signs only with a key every cached JWKS already holds.
 * Private keys are sealed in the database under the key-encryption key (the first of `keks`;
 * the others only open what older keys sealed).
 */
export class KeyRing {
  #keys: LoadedKey[] = [];
  #verificationKeys: JWTVerifyGetKey = createLocalJWKSet({ keys: [] });

  constructor(
    private readonly db: Knex,
    private readonly keks: Buffer[],
  ) {}

  /** Makes sure every algorithm has a current and a next key, then loads the ring. */
  async initialise(): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [KEY_RING_LOCK]);
      const existing = await signingKeyStore.all(trx);
      for (const alg of SIGNING_ALGORITHMS) {
        for (const state of ['current', 'next'] as const) {
          if (existing.some((key) => key.alg === alg && key.state === state)) continue;
          await this.#insertNew(trx, alg, state);
        }
      }
    });
    await this.load();
  }

  async load(): Promise<void> {
    const rows = await signingKeyStore.all(this.db);
    this.#keys = rows
      .map((row) => ({ ...row, privateJwk: JSON.parse(open(this.keks, row.privateJwkSealed, row.kid)) as JWK }))
      .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
    this.#verificationKeys = createLocalJWKSet({ keys: this.#keys.map((key) => key.publicJwk) });
  }

  /** The published keys as a jose key resolver, for checking tokens Tollgate issued. */
  get verificationKeys(): JWTVerifyGetKey {
    return this.#verificationKeys;
  }

  get loaded(): boolean {
    return this.#keys.some((key) => key.state === 'current');
  }

  /** The kid that signs tokens of this algorithm now. */
  currentKid(alg: SigningAlgorithm): string {
    const key = this.#keys.find((candidate) => candidate.alg === alg && candidate.state === 'current');
    if (!key) throw new Error(`the key ring has no current ${alg} key`);
    return key.kid;
  }

  /**
   * Private JWKs for oidc-provider's keystore, which publishes their public halves at jwks_uri.
   * Current keys come first: where oidc-provider picks "the first key for this alg" (ID tokens),
   * that is the current one.
   */
  providerJwks(): JWK[] {
    return this.#keys.map((key) => key.privateJwk);
  }

  list(): PublicKeyInfo[] {
    return this.#keys.map((key) => ({
      kid: key.kid,
      alg: key.alg,
      state: key.state,
      created_at: key.createdAt.toISOString(),
      published_at: key.publishedAt.toISOString(),
      activated_at: key.activatedAt?.toISOString() ?? null,
      retired_at: key.retiredAt?.toISOString() ?? null,
      remove_after: key.removeAfter?.toISOString() ?? null,
    }));
  }

  async #insertNew(db: Knex, alg: SigningAlgorithm, state: KeyState): Promise<void> {
    const key = await generateSigningKey(alg);
    const kek = this.keks[0];
    if (!kek) throw new Error('no key-encryption key');
    await signingKeyStore.insert(db, {
      kid: key.kid,
      alg,
      state,
      publicJwk: key.publicJwk,
      privateJwkSealed: seal(kek, JSON.stringify(key.privateJwk), key.kid),
      ...(state === 'current' ? { activatedAt: new Date() } : {}),
    });
  }
}
