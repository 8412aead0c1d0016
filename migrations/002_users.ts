import type { Knex } from 'knex';

/** People who sign in. Passwords are stored only as scrypt hashes. */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE users (
      id                  text        PRIMARY KEY,
      username            text        NOT NULL,
      email               text,
      password_hash       text        NOT NULL,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      password_changed_at timestamptz NOT NULL DEFAULT now()
    )`);
  // Usernames are unique regardless of case: "Alice" and "alice" are one person.
  await db.raw('CREATE UNIQUE INDEX users_username_key ON users (lower(username))');
  // Revoking everything of one user or client must not scan every payload.
  await db.raw(
    "CREATE INDEX oidc_payloads_account_id ON oidc_payloads ((payload->>'accountId')) WHERE payload->>'accountId' IS NOT NULL",
  );
  await db.raw(
    "CREATE INDEX oidc_payloads_client_id ON oidc_payloads ((payload->>'clientId')) WHERE payload->>'clientId' IS NOT NULL",
  );
}
