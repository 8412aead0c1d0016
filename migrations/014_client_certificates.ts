import type { Knex } from 'knex';

/**
 * Client certificates (issue 19, RFC 8705):
 *
 * - Two more ways for a confidential client to authenticate: `tls_client_auth` (a certificate
 *   from TLS_CLIENT_CA with the registered subject DN or SAN DNS name) and
 *   `self_signed_tls_client_auth` (a certificate whose public key is one the client registered
 *   in client_keys). Neither has a secret: the 011 rule "a secret exactly when the method is
 *   client_secret_basic" holds as it is.
 * - `tls_subject_dn` / `tls_san_dns`: exactly one of them for a tls_client_auth client, neither
 *   for any other, so switching a client away from it leaves no stale subject behind.
 * - `certificate_bound`: every access token (and a public client's refresh tokens) carries the
 *   presented certificate's thumbprint (`cnf.x5t#S256`).
 */
export async function up(db: Knex): Promise<void> {
  // 011's inline CHECK on auth_method, named by PostgreSQL's rule.
  await db.raw('ALTER TABLE clients DROP CONSTRAINT clients_auth_method_check');
  await db.raw(`
    ALTER TABLE clients ADD CONSTRAINT clients_auth_method_check CHECK (auth_method IN (
      'client_secret_basic', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'))`);
  await db.raw('ALTER TABLE clients ADD COLUMN tls_subject_dn text');
  await db.raw('ALTER TABLE clients ADD COLUMN tls_san_dns text');
  await db.raw('ALTER TABLE clients ADD COLUMN certificate_bound boolean NOT NULL DEFAULT false');
  await db.raw(`
    ALTER TABLE clients ADD CONSTRAINT clients_tls_subject_check CHECK (
      CASE WHEN auth_method = 'tls_client_auth'
           THEN (tls_subject_dn IS NULL) <> (tls_san_dns IS NULL)
           ELSE tls_subject_dn IS NULL AND tls_san_dns IS NULL END)`);
}
