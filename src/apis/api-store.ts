import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { camelRow } from '../db/rows.js';
import type { SigningAlgorithm } from '../lib/signing-algorithms.js';
import type { Api } from './api.js';

interface ApiRow {
  id: string;
  identifier: string;
  name: string | null;
  token_ttl: number;
  alg: SigningAlgorithm;
  created_at: Date;
  updated_at: Date;
  scopes: string[] | null;
}

function fromRow(row: ApiRow): Api {
  // An API without scopes has no api_scopes rows: array_agg over none is NULL.
  return { ...camelRow(row), scopes: row.scopes ?? [] };
}

function selectApis(db: Knex) {
  return db('apis').select(
    'apis.*',
    db.raw('(SELECT array_agg(scope ORDER BY position) FROM api_scopes WHERE api_scopes.api_id = apis.id) AS scopes'),
  );
}

/** SQL for APIs and their scopes. Scope uniqueness across APIs is the api_scopes primary key. */
export const apiStore = {
  async all(db: Knex): Promise<Api[]> {
    return (await selectApis(db).orderBy('created_at')).map(fromRow);
  },

  async byIdOrIdentifier(db: Knex, key: string): Promise<Api | undefined> {
    const row = await selectApis(db).where('id', key).orWhere('identifier', key).first();
    return row ? fromRow(row) : undefined;
  },

  async scopeOwners(db: Knex, scopes: string[]): Promise<{ scope: string; identifier: string; api_id: string }[]> {
    if (!scopes.length) return [];
    return db('api_scopes')
      .join('apis', 'apis.id', 'api_scopes.api_id')
      .select('api_scopes.scope', 'apis.identifier', 'api_scopes.api_id')
      .whereIn('api_scopes.scope', scopes);
  },

  async insert(db: Knex, api: Omit<Api, 'createdAt' | 'updatedAt'>): Promise<void> {
    await db('apis').insert({
      id: api.id,
      identifier: api.identifier,
      name: api.name,
      token_ttl: api.tokenTtl,
      alg: api.alg,
    });
    await this.replaceScopes(db, api.id, api.scopes);
  },

  async update(
    db: Knex,
    id: string,
    fields: Partial<Pick<Api, 'identifier' | 'name' | 'tokenTtl' | 'alg'>>,
  ): Promise<void> {
    await db('apis')
      .where({ id })
      .update({
        ...(fields.identifier !== undefined ? { identifier: fields.identifier } : {}),
        ...(fields.name !== undefined ? { name: fields.name } : {}),
        ...(fields.tokenTtl !== undefined ? { token_ttl: fields.tokenTtl } : {}),
        ...(fields.alg !== undefined ? { alg: fields.alg } : {}),
        updated_at: db.fn.now(),
      });
  },

  async replaceScopes(db: Knex, apiId: string, scopes: string[]): Promise<void> {
    await db('api_scopes').where({ api_id: apiId }).delete();
    if (scopes.length) {
      await db('api_scopes').insert(scopes.map((scope, position) => ({ scope, api_id: apiId, position })));
    }
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return affectedRows(await db('apis').where({ id }).delete()) > 0;
  },
};
