import type { Knex } from 'knex';

/**
 * API keys (src/api-keys/): the key itself is never stored, only its SHA-256 (base64url) — unique,
 * and the column a presented key is looked up by — and a recognisable prefix (`tgk_` + 8
 * characters) for people. A key belongs to a client: deleting the client deletes its keys
 * (ON DELETE CASCADE), as the contract has "deleting the client stops its keys" and a key without
 * its client could never be shown or verified. Rotation links the old key to its successor
 * (`replaced_by`) and says until when the old one still works (`grace_until`).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE api_keys (
      id           text        PRIMARY KEY,
      client_id    text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
      name         text,
      scopes       text[]      NOT NULL,
      key_hash     text        NOT NULL UNIQUE,
      prefix       text        NOT NULL,
      rate_limit   text,
      expires_at   timestamptz,
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at   timestamptz,
      replaced_by  text        REFERENCES api_keys (id) ON DELETE SET NULL,
      grace_until  timestamptz
    )`);
  await db.raw('CREATE INDEX api_keys_client_id ON api_keys (client_id, created_at)');
}
