import type { Knex } from 'knex';

/**
 * The nonces of signed requests (issue 18) an API registered through `POST {issuer}/signatures/verify`
 * (src/http/signature-verification.ts), when rate limits live in the database (no REDIS_URL): a
 * (keyid, nonce) pair is refused while its row is here, on every instance. `expires_at` is when a
 * signature carrying the nonce can no longer be accepted anyway (src/limits/nonce-store.ts says
 * why created + 300 s + a margin); the sweeper deletes rows past it. A removed key's nonces are
 * left to expire: no foreign key, so recording a nonce costs one index insert and nothing else.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE signature_nonces (
      keyid      text        NOT NULL,
      nonce      text        NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (keyid, nonce)
    )`);
  await db.raw('CREATE INDEX signature_nonces_expires_at ON signature_nonces (expires_at)');
}
