import type { Knex } from 'knex';

/**
 * A client's keys (issue 18): the public keys a partner registers (Ed25519, P-256, RSA) and the
 * HMAC secrets Tollgate generates for it, for RFC 9421 signed requests and, the public ones, for
 * `private_key_jwt` at the token endpoint (RFC 7523).
 *
 * - `keyid` is what a partner puts in its signature's keyid: a generated id, unique across
 *   clients, so a keyid alone names the key and its client (src/clients/client-key.ts says why
 *   not the thumbprint).
 * - A public key is kept as its public JWK and its RFC 7638 thumbprint; the same key twice on
 *   one client is refused by the unique index on (client_id, thumbprint).
 * - An HMAC secret must be readable to verify a signature (a hash cannot verify an HMAC): it is
 *   kept sealed under the key-encryption key (src/keys/sealed-box.ts) in `secret_sealed`, so a
 *   dump of the database alone reveals nothing usable.
 * - Deleting a client deletes its keys (ON DELETE CASCADE): a key without its client could never
 *   be shown, removed or verified.
 *
 * And how a confidential client authenticates at the token endpoint: `client_secret_basic` (its
 * secret, as before) or `private_key_jwt` (its public keys; no secret at all). The first schema's
 * "public exactly when there is no secret" becomes: public exactly when the method is `none`, a
 * secret exactly when the method is `client_secret_basic`.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE client_keys (
      keyid         text        PRIMARY KEY,
      client_id     text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
      alg           text        NOT NULL
                                CHECK (alg IN ('ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256')),
      public_jwk    jsonb,
      thumbprint    text,
      secret_sealed text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      CHECK (CASE WHEN alg = 'hmac-sha256'
                  THEN secret_sealed IS NOT NULL AND public_jwk IS NULL AND thumbprint IS NULL
                  ELSE secret_sealed IS NULL AND public_jwk IS NOT NULL AND thumbprint IS NOT NULL END)
    )`);
  await db.raw('CREATE UNIQUE INDEX client_keys_thumbprint ON client_keys (client_id, thumbprint)');
  await db.raw('CREATE INDEX client_keys_client_id ON client_keys (client_id, created_at)');

  await db.raw(`
    ALTER TABLE clients ADD COLUMN auth_method text NOT NULL DEFAULT 'client_secret_basic'
      CHECK (auth_method IN ('client_secret_basic', 'private_key_jwt', 'none'))`);
  await db.raw("UPDATE clients SET auth_method = 'none' WHERE is_public");
  // 001's unnamed CHECK (is_public = (secret_hash IS NULL)), named by PostgreSQL's rule.
  await db.raw('ALTER TABLE clients DROP CONSTRAINT clients_check');
  await db.raw(`
    ALTER TABLE clients ADD CONSTRAINT clients_credentials_check CHECK (
      is_public = (auth_method = 'none') AND (secret_hash IS NOT NULL) = (auth_method = 'client_secret_basic'))`);
}
