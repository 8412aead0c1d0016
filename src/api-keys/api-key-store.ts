import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { camelRow } from '../db/rows.js';
import { runStatement, statement } from '../db/statements.js';
import type { ApiKey, ApiKeyTimes } from './api-key.js';

interface ApiKeyRow {
  id: string;
  client_id: string;
  name: string | null;
  scopes: string[];
  key_hash: string;
  prefix: string;
  rate_limit: string | null;
  expires_at: Date | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  replaced_by: string | null;
  grace_until: Date | null;
}

function fromRow(row: ApiKeyRow): ApiKey {
  return camelRow(row);
}

/** Rows per UPDATE of last_used_at: 2 bind parameters each, far below PostgreSQL's 65,535. */
const LAST_USED_BATCH = 5_000;

/** What verification reads of a key: the columns it checks and answers with, times in epoch milliseconds. */
export interface ApiKeyCheck extends ApiKeyTimes {
  id: string;
  clientId: string;
  scopes: string[];
  keyHash: string;
  rateLimit: string | null;
}

interface ApiKeyCheckRow {
  id: string;
  client_id: string;
  scopes: string[];
  key_hash: string;
  rate_limit: string | null;
  revoked_ms: number | null;
  expires_ms: number | null;
  grace_ms: number | null;
}

/** A timestamptz as whole milliseconds since the epoch, a float8 both drivers read as a number (no Date parsing). */
const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * The verification path's one query, as a prepared statement: knex builds and compiles a query
 * on every call, which cost ~145 µs of the ~365 µs of Tollgate CPU a verification took
 * (bench/results/2026-12-07-api-keys-prepared-statement-experiment.md). Only the columns
 * verification uses, times as numbers and mapped by hand: `SELECT *` had the driver parse five
 * timestamps into Dates and the mapper rename thirteen columns through regular expressions for
 * every key asked about (issue 17).
 */
const CHECK_BY_HASH = statement(
  'api_key_check_by_hash',
  `SELECT id, client_id, scopes, key_hash, rate_limit, ${epochMs('revoked_at')} AS revoked_ms,
          ${epochMs('expires_at')} AS expires_ms, ${epochMs('grace_until')} AS grace_ms
     FROM api_keys WHERE key_hash = $1`,
);

/** SQL for API keys. */
export const apiKeyStore = {
  async all(db: Knex, clientId?: string): Promise<ApiKey[]> {
    const query = db('api_keys')
      .select()
      .orderBy([{ column: 'created_at' }, { column: 'id' }]);
    if (clientId !== undefined) query.where({ client_id: clientId });
    return (await query).map(fromRow);
  },

  async byId(db: Knex, id: string): Promise<ApiKey | undefined> {
    const row = await db('api_keys').where({ id }).first();
    return row ? fromRow(row) : undefined;
  },

  /** The one query on the verification path: by the unique hash, so one index probe. */
  async checkByHash(db: Knex, keyHash: string): Promise<ApiKeyCheck | undefined> {
    const { rows } = await runStatement<ApiKeyCheckRow>(db, CHECK_BY_HASH, [keyHash]);
    const row = rows[0];
    return (
      row && {
        id: row.id,
        clientId: row.client_id,
        scopes: row.scopes,
        keyHash: row.key_hash,
        rateLimit: row.rate_limit,
        revokedAtMs: row.revoked_ms,
        expiresAtMs: row.expires_ms,
        graceUntilMs: row.grace_ms,
      }
    );
  },

  async insert(db: Knex, key: Omit<ApiKey, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'replacedBy' | 'graceUntil'>) {
    await db('api_keys').insert({
      id: key.id,
      client_id: key.clientId,
      name: key.name,
      scopes: key.scopes,
      key_hash: key.keyHash,
      prefix: key.prefix,
      rate_limit: key.rateLimit,
      expires_at: key.expiresAt,
    });
  },

  /** Revokes a key not yet revoked; false when there was none to revoke. */
  async revoke(db: Knex, id: string, at: Date): Promise<boolean> {
    return affectedRows(await db('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: at })) > 0;
  },

  /**
   * Marks a key replaced, only if it is still in service and not replaced already: false when a
   * concurrent rotation or revocation came first.
   */
  async markReplaced(db: Knex, id: string, replacedBy: string, graceUntil: Date): Promise<boolean> {
    const updated = await db('api_keys')
      .where({ id })
      .whereNull('replaced_by')
      .whereNull('revoked_at')
      .update({ replaced_by: replacedBy, grace_until: graceUntil });
    return affectedRows(updated) > 0;
  },

  /** One UPDATE per batch, never moving a time backwards (another instance may have written a later one). */
  async recordLastUsed(db: Knex, uses: ReadonlyMap<string, Date>): Promise<void> {
    const entries = [...uses];
    for (let start = 0; start < entries.length; start += LAST_USED_BATCH) {
      const batch = entries.slice(start, start + LAST_USED_BATCH);
      await db.raw(
        `UPDATE api_keys AS k SET last_used_at = v.used_at
           FROM (VALUES ${batch.map(() => '(?, ?::timestamptz)').join(', ')}) AS v (id, used_at)
          WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.used_at)`,
        batch.flatMap(([id, at]) => [id, at.toISOString()]),
      );
    }
  },
};
