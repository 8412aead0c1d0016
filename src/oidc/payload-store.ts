import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';

export type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

interface PayloadRow {
  payload: Payload;
  consumed_at: Date | null;
}

function withConsumed(row: PayloadRow | undefined): Payload | undefined {
  if (!row) return undefined;
  const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) as Payload : row.payload;
  if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

/** Expired rows are kept this long after expiry, so late polls still get `expired_token`. */
export const SWEEP_GRACE_SECONDS = 3600;

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * SQL for everything oidc-provider persists; one row per artefact, keyed by (kind, id).
 * The statements on the token endpoint's path (find, consume, upsert) are written out rather
 * than built by knex's query builder per call: a refresh runs four of them.
 */
export const oidcPayloadStore = {
  async upsert(db: Knex, kind: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
    // consumed_at is deliberately not overwritten: once consumed, always consumed.
    await db.raw(
      `INSERT INTO oidc_payloads (kind, id, payload, grant_id, user_code, uid, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
      [kind, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null,
        expiresIn ? new Date(Date.now() + expiresIn * 1000) : null],
    );
  },

  async find(db: Knex, kind: string, id: string): Promise<Payload | undefined> {
    const result = await db.raw('SELECT payload, consumed_at FROM oidc_payloads WHERE kind = ? AND id = ?', [kind, id]);
    return withConsumed(rowsOf<PayloadRow>(result)[0]);
  },

  async findBy(db: Knex, kind: string, column: 'uid' | 'user_code', value: string): Promise<Payload | undefined> {
    return withConsumed(await db('oidc_payloads').select('payload', 'consumed_at').where({ kind, [column]: value }).first());
  },

  /**
   * Marks an artefact consumed if, and only if, nobody else has: the conditional UPDATE is the
   * single point where concurrent presentations of one code are decided. Returns false to the loser.
   */
  async consume(db: Knex, kind: string, id: string): Promise<boolean> {
    const won = await db.raw('UPDATE oidc_payloads SET consumed_at = now() WHERE kind = ? AND id = ? AND consumed_at IS NULL RETURNING id', [kind, id]);
    return rowsOf(won).length === 1;
  },

  async grantIdOf(db: Knex, kind: string, id: string): Promise<string | undefined> {
    const row = await db('oidc_payloads').select('grant_id').where({ kind, id }).first();
    return row?.grant_id ?? undefined;
  },

  async destroy(db: Knex, kind: string, id: string): Promise<void> {
    await db('oidc_payloads').where({ kind, id }).delete();
  },

  async revokeByGrantId(db: Knex, kind: string, grantId: string): Promise<void> {
    await db('oidc_payloads').where({ kind, grant_id: grantId }).delete();
  },

  /** The whole grant: the Grant itself and every artefact issued under it. */
  async revokeGrant(db: Knex, grantId: string): Promise<void> {
    await db('oidc_payloads').where({ grant_id: grantId }).orWhere({ kind: 'Grant', id: grantId }).delete();
  },

  /** Every grant, token and session of a user, for a password change or deletion. */
  async deleteByAccount(db: Knex, accountId: string): Promise<void> {
    await db('oidc_payloads').whereRaw("payload->>'accountId' = ?", [accountId]).delete();
  },

  /** Everything issued to a client, for when the client is deleted. */
  async deleteByClient(db: Knex, clientId: string): Promise<void> {
    await db('oidc_payloads').whereRaw("payload->>'clientId' = ?", [clientId]).delete();
  },

  /** Deletes up to `batch` rows expired more than the grace period ago; returns how many. */
  async sweepExpired(db: Knex, batch: number): Promise<number> {
    const result = await db.raw(
      `DELETE FROM oidc_payloads WHERE (kind, id) IN (
         SELECT kind, id FROM oidc_payloads
         WHERE expires_at < now() - make_interval(secs => ?) LIMIT ?)`,
      [SWEEP_GRACE_SECONDS, batch],
    );
    return affectedRows(result);
  },
};
