import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { runStatement, statement } from '../db/statements.js';

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
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as Payload) : row.payload;
  if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

/**
 * A device code's member holding its own id, sealed under its user code (UserCodeDigest.sealId).
 * Saved again after a look-up by its id, which knows no user code, the code keeps it.
 */
export const ID_SEALED_BY_USER_CODE = 'idSealedByUserCode';

/** Expired rows are kept this long after expiry, so late polls still get `expired_token`. */
export const SWEEP_GRACE_SECONDS = 3600;

const UPSERT = statement(
  'payload_upsert',
  `
  INSERT INTO oidc_payloads (kind, id, payload, grant_id, user_code, uid, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (kind, id) DO UPDATE SET
    payload = CASE WHEN excluded.user_code IS NULL AND oidc_payloads.payload ? '${ID_SEALED_BY_USER_CODE}'
      THEN excluded.payload || jsonb_build_object('${ID_SEALED_BY_USER_CODE}', oidc_payloads.payload->'${ID_SEALED_BY_USER_CODE}')
      ELSE excluded.payload END,
    grant_id = excluded.grant_id,
    user_code = COALESCE(excluded.user_code, oidc_payloads.user_code), uid = excluded.uid, expires_at = excluded.expires_at`,
);

// For what is recorded once and must never be overwritten: a client assertion's (iss, jti).
const INSERT_NEW = statement(
  'payload_insert_new',
  `
  INSERT INTO oidc_payloads (kind, id, payload, grant_id, user_code, uid, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (kind, id) DO NOTHING`,
);

const FIND = statement('payload_find', 'SELECT payload, consumed_at FROM oidc_payloads WHERE kind = $1 AND id = $2');

const FIND_WITH_GRANT = statement(
  'payload_find_with_grant',
  `
  SELECT t.payload, t.consumed_at, g.payload AS grant_payload, g.consumed_at AS grant_consumed_at, t.grant_id
  FROM oidc_payloads t LEFT JOIN oidc_payloads g ON g.kind = 'Grant' AND g.id = t.grant_id
  WHERE t.kind = $1 AND t.id = $2`,
);

// The successor is inserted only if this statement's UPDATE consumed the presented token.
const ROTATE = statement(
  'payload_rotate',
  `
  WITH consumed AS (
    UPDATE oidc_payloads SET consumed_at = now()
    WHERE kind = $1 AND id = $8 AND consumed_at IS NULL
    RETURNING id
  )
  INSERT INTO oidc_payloads (kind, id, payload, grant_id, user_code, uid, expires_at)
  SELECT $1::text, $2::text, $3::jsonb, $4::text, $5::text, $6::text, $7::timestamptz FROM consumed`,
);

const CONSUME = statement(
  'payload_consume',
  'UPDATE oidc_payloads SET consumed_at = now() WHERE kind = $1 AND id = $2 AND consumed_at IS NULL',
);

/**
 * One artefact as written: `id` is already the stored id (artefact-ids.ts), `payload` the stored
 * payload (stored-payload.ts), `userCode` the user code's digest.
 */
export interface StoredArtefact {
  kind: string;
  id: string;
  payload: Payload;
  userCode: string | undefined;
  expiresIn: number | undefined;
}

/** $1…$7 of UPSERT and ROTATE. */
function columnValues({ kind, id, payload, userCode, expiresIn }: StoredArtefact): unknown[] {
  return [
    kind,
    id,
    JSON.stringify(payload),
    payload.grantId ?? null,
    userCode ?? null,
    payload.uid ?? null,
    expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
  ];
}

interface PayloadWithGrantRow extends PayloadRow {
  grant_id: string | null;
  grant_payload: Payload | null;
  grant_consumed_at: Date | null;
}

/** A token and the Grant it was issued under, read in one statement (one snapshot). */
export interface PayloadWithGrant {
  payload: Payload;
  grantId: string | undefined;
  grant: Payload | undefined;
}

/**
 * SQL for everything oidc-provider persists; one row per artefact, keyed by (kind, id). Every id
 * and user code given here is the stored one: the adapter hashes what it is presented.
 * The statements on the token endpoint's path (find, consume, upsert) are prepared statements
 * (src/db/statements.ts): a refresh runs two of them.
 */
export const oidcPayloadStore = {
  async upsert(db: Knex, artefact: StoredArtefact): Promise<void> {
    // consumed_at is deliberately not overwritten: once consumed, always consumed. Nor is a
    // device code's user code when it is saved again after a look-up by its id (which knows none).
    await runStatement(db, UPSERT, columnValues(artefact));
  },

  /** Inserts the artefact unless one with its id exists; whether it did. */
  async insertNew(db: Knex, artefact: StoredArtefact): Promise<boolean> {
    const { rowCount } = await runStatement(db, INSERT_NEW, columnValues(artefact));
    return rowCount === 1;
  },

  /**
   * Consumes `presentedId` and inserts its successor `id` in one statement; false, with nothing
   * inserted, if the presented token was already consumed or is gone (see RefreshRotation).
   */
  async rotate(db: Knex, presentedId: string, successor: StoredArtefact): Promise<boolean> {
    const { rowCount } = await runStatement(db, ROTATE, [...columnValues(successor), presentedId]);
    return rowCount === 1;
  },

  async find(db: Knex, kind: string, id: string): Promise<Payload | undefined> {
    const { rows } = await runStatement<PayloadRow>(db, FIND, [kind, id]);
    return withConsumed(rows[0]);
  },

  async findWithGrant(db: Knex, kind: string, id: string): Promise<PayloadWithGrant | undefined> {
    const {
      rows: [row],
    } = await runStatement<PayloadWithGrantRow>(db, FIND_WITH_GRANT, [kind, id]);
    if (!row) return undefined;
    return {
      payload: withConsumed(row)!,
      grantId: row.grant_id ?? undefined,
      grant: withConsumed(
        row.grant_payload ? { payload: row.grant_payload, consumed_at: row.grant_consumed_at } : undefined,
      ),
    };
  },

  async findBy(db: Knex, kind: string, column: 'uid' | 'user_code', value: string): Promise<Payload | undefined> {
    return withConsumed(
      await db('oidc_payloads')
        .select('payload', 'consumed_at')
        .where({ kind, [column]: value })
        .first(),
    );
  },

  /**
   * Marks an artefact consumed if, and only if, nobody else has: the conditional UPDATE is the
   * single point where concurrent presentations of one code are decided. Returns false to the loser.
   */
  async consume(db: Knex, kind: string, id: string): Promise<boolean> {
    const { rowCount } = await runStatement(db, CONSUME, [kind, id]);
    return rowCount === 1;
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
