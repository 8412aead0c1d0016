import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { camelRow, changedColumns } from '../db/rows.js';
import type { Client } from './client.js';

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string | null;
  is_public: boolean;
  first_party: boolean;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scopes: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: ClientRow): Client {
  return camelRow(row);
}

export type ClientChanges = Partial<
  Pick<
    Client,
    | 'name'
    | 'grantTypes'
    | 'redirectUris'
    | 'postLogoutRedirectUris'
    | 'scopes'
    | 'disabled'
    | 'firstParty'
    | 'secretHash'
  >
>;

/** SQL for clients. */
export const clientStore = {
  async all(db: Knex): Promise<Client[]> {
    return (await db('clients').select().orderBy('created_at')).map(fromRow);
  },

  async byId(db: Knex, id: string): Promise<Client | undefined> {
    const row = await db('clients').where({ id }).first();
    return row ? fromRow(row) : undefined;
  },

  async insert(db: Knex, client: Omit<Client, 'createdAt' | 'updatedAt' | 'disabled'>): Promise<void> {
    await db('clients').insert({
      id: client.id,
      name: client.name,
      secret_hash: client.secretHash,
      is_public: client.isPublic,
      first_party: client.firstParty,
      grant_types: client.grantTypes,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      scopes: client.scopes,
    });
  },

  async update(db: Knex, id: string, changes: ClientChanges): Promise<void> {
    await db('clients')
      .where({ id })
      .update({ ...changedColumns(changes), updated_at: db.fn.now() });
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return affectedRows(await db('clients').where({ id }).delete()) > 0;
  },
};
