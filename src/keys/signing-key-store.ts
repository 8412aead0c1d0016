import type { Knex } from 'knex';
import type { JWK } from 'jose';
import { camelRow } from '../db/rows.js';
import type { SigningAlgorithm } from '../lib/signing-algorithms.js';

export type KeyState = 'next' | 'current' | 'previous';

export interface SigningKeyRow {
  kid: string;
  alg: SigningAlgorithm;
  state: KeyState;
  publicJwk: JWK;
  privateJwkSealed: string;
  createdAt: Date;
  publishedAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  removeAfter: Date | null;
}

interface DbRow {
  kid: string;
  alg: SigningAlgorithm;
  state: KeyState;
  public_jwk: JWK;
  private_jwk_sealed: string;
  created_at: Date;
  published_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
  remove_after: Date | null;
}

function fromDb(row: DbRow): SigningKeyRow {
  return camelRow(row);
}

/** SQL for the signing-key ring; the rules about states live in KeyRing. */
export const signingKeyStore = {
  async all(db: Knex): Promise<SigningKeyRow[]> {
    const rows: DbRow[] = await db('signing_keys')
      .select()
      .orderBy([{ column: 'alg' }, { column: 'created_at' }]);
    return rows.map(fromDb);
  },

  /** Which keys exist and in which state, in no particular order (see ringFingerprint). */
  async states(db: Knex): Promise<{ kid: string; state: KeyState }[]> {
    return db('signing_keys').select('kid', 'state');
  },

  async promote(
    db: Knex,
    kid: string,
    changes: { state: KeyState; activatedAt?: Date; retiredAt?: Date; removeAfter?: Date },
  ): Promise<void> {
    await db('signing_keys')
      .where({ kid })
      .update({
        state: changes.state,
        ...(changes.activatedAt ? { activated_at: changes.activatedAt } : {}),
        ...(changes.retiredAt ? { retired_at: changes.retiredAt } : {}),
        ...(changes.removeAfter ? { remove_after: changes.removeAfter } : {}),
      });
  },

  /** Previous keys whose tokens have all expired (plus skew). */
  async deleteRemovable(db: Knex, now: Date): Promise<string[]> {
    const rows: { kid: string }[] = await db('signing_keys')
      .where({ state: 'previous' })
      .andWhere('remove_after', '<', now)
      .delete()
      .returning('kid');
    return rows.map((row) => row.kid);
  },

  async delete(db: Knex, kids: string[]): Promise<void> {
    await db('signing_keys').whereIn('kid', kids).delete();
  },

  async reseal(db: Knex, kid: string, privateJwkSealed: string): Promise<void> {
    await db('signing_keys').where({ kid }).update({ private_jwk_sealed: privateJwkSealed });
  },

  async insert(
    db: Knex,
    key: {
      kid: string;
      alg: SigningAlgorithm;
      state: KeyState;
      publicJwk: JWK;
      privateJwkSealed: string;
      activatedAt?: Date;
    },
  ): Promise<void> {
    await db('signing_keys').insert({
      kid: key.kid,
      alg: key.alg,
      state: key.state,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk_sealed: key.privateJwkSealed,
      activated_at: key.activatedAt ?? null,
    });
  },
};
