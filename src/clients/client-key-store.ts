import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { runStatement, statement } from '../db/statements.js';
import type { ClientKeyAlgorithm, PublicJwk } from '../lib/client-public-key.js';
import type { ClientJwk, ClientKey } from './client-key.js';

interface ClientKeyRow {
  keyid: string;
  client_id: string;
  alg: ClientKeyAlgorithm;
  public_jwk: PublicJwk | string | null;
  thumbprint: string | null;
  created_at: Date;
}

const COLUMNS = ['keyid', 'client_id', 'alg', 'public_jwk', 'thumbprint', 'created_at'];

/** jsonb comes back parsed from pg, as text from some drivers. */
function jwkOf(value: PublicJwk | string | null): PublicJwk | null {
  return typeof value === 'string' ? (JSON.parse(value) as PublicJwk) : value;
}

function fromRow(row: ClientKeyRow): ClientKey {
  return {
    keyid: row.keyid,
    clientId: row.client_id,
    alg: row.alg,
    publicJwk: jwkOf(row.public_jwk),
    thumbprint: row.thumbprint,
    createdAt: row.created_at,
  };
}

/**
 * The signature verification path's read, as a prepared statement: knex builds and compiles a
 * query on every call (as for API keys, src/api-keys/api-key-store.ts).
 */
const BY_KEYID_WITH_SECRET = statement(
  'client_key_by_keyid_with_secret',
  `SELECT ${[...COLUMNS, 'secret_sealed'].join(', ')} FROM client_keys WHERE keyid = $1`,
);

export type NewClientKey = Omit<ClientKey, 'createdAt'> & { secretSealed: string | null };

/** SQL for client_keys (migrations/011_client_keys.ts). The sealed secret is read only by byKeyidWithSecret and sealedSecrets. */
export const clientKeyStore = {
  async ofClient(db: Knex, clientId: string): Promise<ClientKey[]> {
    const rows: ClientKeyRow[] = await db('client_keys')
      .select(COLUMNS)
      .where({ client_id: clientId })
      .orderBy([{ column: 'created_at' }, { column: 'keyid' }]);
    return rows.map(fromRow);
  },

  /** One key by its keyid (unique across clients), whatever its client's state. */
  async byKeyid(db: Knex, keyid: string): Promise<ClientKey | undefined> {
    const row: ClientKeyRow | undefined = await db('client_keys').select(COLUMNS).where({ keyid }).first();
    return row && fromRow(row);
  },

  /** A client's public keys as the JWK Set oidc-provider verifies its assertions with. */
  async publicJwks(db: Knex, clientId: string): Promise<ClientJwk[]> {
    const keys = await clientKeyStore.ofClient(db, clientId);
    return keys.flatMap((key) => (key.publicJwk ? [{ ...key.publicJwk, kid: key.keyid }] : []));
  },

  async insert(db: Knex, key: NewClientKey): Promise<void> {
    await db('client_keys').insert({
      keyid: key.keyid,
      client_id: key.clientId,
      alg: key.alg,
      public_jwk: key.publicJwk === null ? null : JSON.stringify(key.publicJwk),
      thumbprint: key.thumbprint,
      secret_sealed: key.secretSealed,
    });
  },

  async delete(db: Knex, clientId: string, keyid: string): Promise<boolean> {
    return affectedRows(await db('client_keys').where({ client_id: clientId, keyid }).delete()) > 0;
  },

  /** Every sealed HMAC secret, for re-sealing under a new key-encryption key. */
  async sealedSecrets(db: Knex): Promise<{ keyid: string; secretSealed: string }[]> {
    const rows: { keyid: string; secret_sealed: string }[] = await db('client_keys')
      .select('keyid', 'secret_sealed')
      .whereNotNull('secret_sealed');
    return rows.map((row) => ({ keyid: row.keyid, secretSealed: row.secret_sealed }));
  },

  /** One key by its keyid with its sealed secret (null for a public key): the signature verification path's one read. */
  async byKeyidWithSecret(
    db: Knex,
    keyid: string,
  ): Promise<{ key: ClientKey; secretSealed: string | null } | undefined> {
    const { rows } = await runStatement<ClientKeyRow & { secret_sealed: string | null }>(db, BY_KEYID_WITH_SECRET, [
      keyid,
    ]);
    const row = rows[0];
    return row && { key: fromRow(row), secretSealed: row.secret_sealed };
  },

  async reseal(db: Knex, keyid: string, secretSealed: string): Promise<void> {
    await db('client_keys').where({ keyid }).update({ secret_sealed: secretSealed });
  },
};
