import type { Knex } from 'knex';
import type { JWK } from 'jose';
import { NotFoundError, TollgateError } from '../lib/errors.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../lib/signing-algorithms.js';
import { generateSigningKey } from './generate-key.js';
import { KeySnapshot, type LoadedKey } from './key-snapshot.js';
import { ringFingerprint } from './ring-fingerprint.js';
import { kekId, open, seal, SealedBoxError, sealedBy } from './sealed-box.js';
import { signingKeyStore, type KeyState, type SigningKeyRow } from './signing-key-store.js';
import { lockForTransaction } from '../db/advisory-locks.js';

/** Clock skew allowed to verifiers, both for publishing ahead and for keeping old keys. */
export const CLOCK_SKEW_SECONDS = 60;

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

export interface KeyRingTiming {
  /** JWKS_MAX_AGE: how long a verifier may cache the JWKS. */
  jwksMaxAge: number;
  /** The longest lifetime of anything a key signs (access tokens, ID tokens), seconds. */
  maxSignedLifetime: number;
  /** KEY_ROTATION_DAYS. */
  rotationDays: number;
}

export class RotationTooEarlyError extends TollgateError {
  constructor(readonly possibleAt: Date) {
    super(
      409,
      'rotation_too_early',
      `the next key has not been published long enough for every cached JWKS to hold it; rotation is possible from ${possibleAt.toISOString()} (or use --force for an emergency such as a leaked key)`,
      {
        extraFields: { possible_at: possibleAt.toISOString() },
      },
    );
  }
}

/** One committed rotation: the kids now signing and those retired to `previous`. */
export interface KeyRotation {
  /** By the KEY_ROTATION_DAYS schedule (key maintenance), not asked for through the admin API. */
  scheduled: boolean;
  current: string[];
  retired: string[];
}

/**
 * The signing-key ring: for every algorithm a `current` key that signs, a `next` key that is
 * already published, and `previous` keys published until everything they signed has expired.
 * A rotation promotes `next` only once it has been in the JWKS longer than any verifier caches
 * the JWKS, so no verifier ever meets a kid it has not seen. Private keys are sealed in the
 * database under the key-encryption key (the first of `keks`; the others only open older seals).
 */
export class KeyRing {
  #snapshot = new KeySnapshot([]);

  constructor(
    private readonly db: Knex,
    private readonly keks: Buffer[],
    private readonly timing: KeyRingTiming,
    /**
     * Told after each committed rotation, by the admin API or the schedule: metrics count them,
     * the audit log records the scheduled ones (the admin API records its own, with its actor).
     */
    private readonly onRotated: (rotation: KeyRotation) => void = () => {},
  ) {}

  /** Makes sure every algorithm has a current and a next key, re-seals under a new KEK, loads. */
  async initialise(): Promise<void> {
    await this.#locked(async (trx) => {
      const existing = await signingKeyStore.all(trx);
      for (const alg of SIGNING_ALGORITHMS) {
        for (const state of ['current', 'next'] as const) {
          if (existing.some((key) => key.alg === alg && key.state === state)) continue;
          await this.#insertNew(trx, alg, state);
        }
      }
      await this.#resealUnderCurrentKek(trx, existing);
    });
    await this.load();
  }

  async load(): Promise<KeySnapshot> {
    const rows = await signingKeyStore.all(this.db);
    this.#snapshot = new KeySnapshot(
      rows.map((row): LoadedKey => ({
        ...row,
        privateJwk: JSON.parse(this.#open(row)) as JWK,
      })),
    );
    return this.#snapshot;
  }

  /** The ring as loaded now. */
  get snapshot(): KeySnapshot {
    return this.#snapshot;
  }

  /** Whether the database holds a different ring than the one loaded (another instance rotated). */
  async changed(): Promise<boolean> {
    return ringFingerprint(await signingKeyStore.states(this.db)) !== this.#snapshot.fingerprint;
  }

  list(): PublicKeyInfo[] {
    return this.#snapshot.keys.map((key) => ({
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

  /**
   * Promotes every algorithm's `next` key to `current`, retires `current` to `previous`, and
   * pre-publishes a new `next`. Without `force`, refused until `next` has been published for
   * JWKS_MAX_AGE + skew.
   */
  async rotate(options: { force?: boolean } = {}): Promise<KeyRotation> {
    const rotation = await this.#locked(async (trx) => {
      const keys = await signingKeyStore.all(trx);
      if (!options.force) {
        const possibleAt = this.#rotationPossibleAt(keys);
        if (possibleAt.getTime() > Date.now()) throw new RotationTooEarlyError(possibleAt);
      }
      return this.#rotate(trx, keys, false);
    });
    this.onRotated(rotation);
    await this.load();
    return rotation;
  }

  /**
   * Withdraws a key at once (a leaked key): its row is deleted, so it leaves the JWKS and the
   * list, can never be promoted again, and every other instance drops it at its next ring check.
   * A `current` or `next` key takes its algorithm's partner with it — the two were stored and
   * sealed side by side, so one leak may well be both — and a fresh `current` and `next` replace
   * them; the fresh `current` signs before any verifier can have cached it, as after
   * `rotate --force` (verifiers refetch the JWKS on an unknown kid). A `previous` key is just
   * removed. Returns the kids withdrawn.
   */
  async revoke(kid: string): Promise<string[]> {
    const revoked = await this.#locked(async (trx) => {
      // Looked up among the rows rather than by a query on the caller's text, so any string at
      // all (NUL bytes included) is simply an unknown kid.
      const keys = await signingKeyStore.all(trx);
      const target = keys.find((key) => key.kid === kid);
      if (!target)
        throw new NotFoundError(`no signing key has the kid ${JSON.stringify(kid)} (tollgate keys list shows them)`);
      if (target.state === 'previous') {
        await signingKeyStore.delete(trx, [target.kid]);
        return [target.kid];
      }
      const withdrawn = keys.filter((key) => key.alg === target.alg && key.state !== 'previous').map((key) => key.kid);
      await signingKeyStore.delete(trx, withdrawn);
      await this.#insertNew(trx, target.alg, 'current');
      await this.#insertNew(trx, target.alg, 'next');
      return withdrawn;
    });
    await this.load();
    return revoked;
  }

  /**
   * The scheduled job: rotates when the current keys are KEY_ROTATION_DAYS old, and drops
   * previous keys whose tokens have all expired. Instances run it concurrently; the lock and the
   * re-check inside it make exactly one of them rotate. Returns whether the ring changed.
   */
  async maintain(): Promise<boolean> {
    let rotated: KeyRotation | undefined;
    const changed = await this.#locked(async (trx) => {
      const keys = await signingKeyStore.all(trx);
      const removed = await signingKeyStore.deleteRemovable(trx, new Date());
      const due = this.#rotationDueAt(keys);
      if (!due || due.getTime() > Date.now() || this.#rotationPossibleAt(keys).getTime() > Date.now())
        return removed.length > 0;
      rotated = await this.#rotate(
        trx,
        keys.filter((key) => !removed.includes(key.kid)),
        true,
      );
      return true;
    });
    if (rotated) this.onRotated(rotated);
    return changed;
  }

  /** When the current keys are due for their scheduled rotation. */
  #rotationDueAt(keys: SigningKeyRow[]): Date | undefined {
    const activations = keys
      .filter((key) => key.state === 'current')
      .map((key) => (key.activatedAt ?? key.createdAt).getTime());
    if (!activations.length) return undefined;
    return new Date(Math.min(...activations) + this.timing.rotationDays * 86_400_000);
  }

  /** The earliest moment every `next` key has been published for JWKS_MAX_AGE + skew. */
  #rotationPossibleAt(keys: SigningKeyRow[]): Date {
    const published = keys.filter((key) => key.state === 'next').map((key) => key.publishedAt.getTime());
    const latest = published.length ? Math.max(...published) : 0;
    return new Date(latest + (this.timing.jwksMaxAge + CLOCK_SKEW_SECONDS) * 1000);
  }

  async #rotate(trx: Knex.Transaction, keys: SigningKeyRow[], scheduled: boolean): Promise<KeyRotation> {
    const rotation: KeyRotation = { scheduled, current: [], retired: [] };
    const now = new Date();
    const removeAfter = new Date(now.getTime() + (this.timing.maxSignedLifetime + CLOCK_SKEW_SECONDS) * 1000);
    for (const alg of SIGNING_ALGORITHMS) {
      const current = keys.find((key) => key.alg === alg && key.state === 'current');
      const next = keys.find((key) => key.alg === alg && key.state === 'next');
      // Order matters for the one-current/one-next indexes: retire, promote, then pre-publish.
      if (current) {
        await signingKeyStore.promote(trx, current.kid, { state: 'previous', retiredAt: now, removeAfter });
        rotation.retired.push(current.kid);
      }
      if (next) await signingKeyStore.promote(trx, next.kid, { state: 'current', activatedAt: now });
      rotation.current.push(next ? next.kid : await this.#insertNew(trx, alg, 'current'));
      await this.#insertNew(trx, alg, 'next');
    }
    return rotation;
  }

  /** During a KEY_ENCRYPTION_KEY rotation, seals under the new key what the previous one sealed. */
  async #resealUnderCurrentKek(trx: Knex.Transaction, keys: SigningKeyRow[]): Promise<void> {
    const kek = this.#kek();
    const currentId = kekId(kek);
    for (const key of keys) {
      if (sealedBy(key.privateJwkSealed) === currentId) continue;
      await signingKeyStore.reseal(trx, key.kid, seal(kek, this.#open(key), key.kid));
    }
  }

  /**
   * A signing key's private JWK. One that does not open is not skipped (src/keys/sealed-records.ts
   * is for records a request can do without): without it the ring cannot sign or rotate, so the
   * start stops, or the scheduled refresh keeps the ring it has and logs, naming the kid.
   */
  #open(key: SigningKeyRow): string {
    try {
      return open(this.keks, key.privateJwkSealed, key.kid);
    } catch (error) {
      if (error instanceof SealedBoxError) throw new SealedBoxError(`signing key ${key.kid}: ${error.message}`);
      throw error;
    }
  }

  /** Generates, seals and stores a key; its kid. */
  async #insertNew(db: Knex, alg: SigningAlgorithm, state: KeyState): Promise<string> {
    const key = await generateSigningKey(alg);
    await signingKeyStore.insert(db, {
      kid: key.kid,
      alg,
      state,
      publicJwk: key.publicJwk,
      privateJwkSealed: seal(this.#kek(), JSON.stringify(key.privateJwk), key.kid),
      ...(state === 'current' ? { activatedAt: new Date() } : {}),
    });
    return key.kid;
  }

  #kek(): Buffer {
    const kek = this.keks[0];
    if (!kek) throw new Error('no key-encryption key');
    return kek;
  }

  #locked<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(async (trx) => {
      await lockForTransaction(trx, 'keyRing');
      return work(trx);
    });
  }
}
