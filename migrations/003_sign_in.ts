import type { Knex } from 'knex';

/** Remembered consent, and the failed sign-ins that slow down password guessing. */
export async function up(db: Knex): Promise<void> {
  // What a user has allowed a client, so the consent page asks only for what is new.
  await db.raw(`
    CREATE TABLE consents (
      user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      client_id       text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
      oidc_scopes     text[]      NOT NULL DEFAULT '{}',
      resource_scopes jsonb       NOT NULL DEFAULT '{}',
      updated_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, client_id)
    )`);
  // Keyed by a hash of (username, IP) or of the IP alone: no typed usernames are kept.
  await db.raw(`
    CREATE TABLE sign_in_failures (
      key             text        PRIMARY KEY,
      failures        integer     NOT NULL,
      last_failure_at timestamptz NOT NULL
    )`);
}
