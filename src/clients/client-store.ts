import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { camelRow, changedColumns } from '../db/rows.js';
import { formatRate, parseRate, type Rate } from '../lib/rate.js';
import type { Client, ClientAuthMethod } from './client.js';

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string | null;
  is_public: boolean;
  auth_method: ClientAuthMethod;
  tls_subject_dn: string | null;
  tls_san_dns: string | null;
  certificate_bound: boolean;
  first_party: boolean;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scopes: string[];
  disabled: boolean;
  rate_limit: string | null;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: ClientRow): Client {
  // Written only by this store, from a parsed Rate: it parses back.
  return { ...camelRow(row), rateLimit: row.rate_limit === null ? null : parseRate(row.rate_limit) };
}

const rateColumn = (rate: Rate | null) => (rate === null ? null : formatRate(rate));

/** The columns of a client an update may change (the service's ClientChanges, plus the secret). */
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
    | 'rateLimit'
    | 'authMethod'
    | 'tlsSubjectDn'
    | 'tlsSanDns'
    | 'certificateBound'
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
      auth_method: client.authMethod,
      tls_subject_dn: client.tlsSubjectDn,
      tls_san_dns: client.tlsSanDns,
      certificate_bound: client.certificateBound,
      first_party: client.firstParty,
      grant_types: client.grantTypes,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      scopes: client.scopes,
      rate_limit: rateColumn(client.rateLimit),
    });
  },

  async update(db: Knex, id: string, changes: ClientChanges): Promise<void> {
    await db('clients')
      .where({ id })
      .update({
        ...changedColumns({ ...changes, rateLimit: undefined }),
        ...(changes.rateLimit === undefined ? {} : { rate_limit: rateColumn(changes.rateLimit) }),
        updated_at: db.fn.now(),
      });
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return affectedRows(await db('clients').where({ id }).delete()) > 0;
  },
};
