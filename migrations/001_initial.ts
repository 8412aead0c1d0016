import type { Knex } from 'knex';

/** The first schema: OAuth artefacts, APIs, clients and the signing-key ring. */
export async function up(db: Knex): Promise<void> {
  // Everything oidc-provider persists (codes, refresh tokens, grants, sessions, interactions …),
  // one row per artefact. The columns beside the JSONB payload are the ones it looks things up by.
  await db.raw(`
    CREATE TABLE oidc_payloads (
      kind        text        NOT NULL,
      id          text        NOT NULL,
      payload     jsonb       NOT NULL,
      grant_id    text,
      user_code   text,
      uid         text,
      expires_at  timestamptz,
      consumed_at timestamptz,
      PRIMARY KEY (kind, id)
    )`);
  await db.raw('CREATE INDEX oidc_payloads_grant_id ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL');
  await db.raw('CREATE INDEX oidc_payloads_user_code ON oidc_payloads (kind, user_code) WHERE user_code IS NOT NULL');
  await db.raw('CREATE INDEX oidc_payloads_uid ON oidc_payloads (kind, uid) WHERE uid IS NOT NULL');
  await db.raw('CREATE INDEX oidc_payloads_expires_at ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL');

  await db.raw(`
    CREATE TABLE apis (
      id          text        PRIMARY KEY,
      identifier  text        NOT NULL UNIQUE,
      name        text,
      token_ttl   integer     NOT NULL CHECK (token_ttl BETWEEN 1 AND 3600),
      alg         text        NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`);
  // A scope names exactly one API: the primary key is what makes scope names unique across APIs.
  await db.raw(`
    CREATE TABLE api_scopes (
      scope    text    PRIMARY KEY,
      api_id   text    NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
      position integer NOT NULL
    )`);
  await db.raw('CREATE INDEX api_scopes_api_id ON api_scopes (api_id)');

  await db.raw(`
    CREATE TABLE clients (
      id                         text        PRIMARY KEY,
      name                       text        NOT NULL,
      secret_hash                text,
      is_public                  boolean     NOT NULL,
      first_party                boolean     NOT NULL DEFAULT false,
      grant_types                text[]      NOT NULL,
      redirect_uris              text[]      NOT NULL DEFAULT '{}',
      post_logout_redirect_uris  text[]      NOT NULL DEFAULT '{}',
      scopes                     text[]      NOT NULL DEFAULT '{}',
      disabled                   boolean     NOT NULL DEFAULT false,
      created_at                 timestamptz NOT NULL DEFAULT now(),
      updated_at                 timestamptz NOT NULL DEFAULT now(),
      CHECK (is_public = (secret_hash IS NULL))
    )`);

  // The signing-key ring. Private keys are sealed (AES-256-GCM under the key-encryption key).
  await db.raw(`
    CREATE TABLE signing_keys (
      kid           text        PRIMARY KEY,
      alg           text        NOT NULL,
      state         text        NOT NULL CHECK (state IN ('next', 'current', 'previous')),
      public_jwk    jsonb       NOT NULL,
      private_jwk_sealed text   NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      published_at  timestamptz NOT NULL DEFAULT now(),
      activated_at  timestamptz,
      retired_at    timestamptz,
      remove_after  timestamptz
    )`);
  // At most one current and one next key per algorithm.
  await db.raw("CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current'");
  await db.raw("CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next'");

  // Server-wide secrets shared by every instance (cookie-signing keys), sealed like private keys.
  await db.raw(`
    CREATE TABLE server_secrets (
      name       text        PRIMARY KEY,
      sealed     text        NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
}
