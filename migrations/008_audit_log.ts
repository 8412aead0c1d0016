import type { Knex } from 'knex';

/**
 * Who changed what through the admin API, and the security events worth an operator's look
 * (src/audit/). Kept for AUDIT_RETENTION_DAYS, then swept. Listed newest first, whole or by type
 * (exactly, or by a prefix such as `client.`): text_pattern_ops lets the prefix use the index
 * whatever the database's collation.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE audit_log (
      id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      time    timestamptz NOT NULL DEFAULT now(),
      type    text        NOT NULL,
      actor   text        NOT NULL,
      subject text,
      ip      text,
      detail  jsonb       NOT NULL DEFAULT '{}'::jsonb
    )`);
  await db.raw('CREATE INDEX audit_log_newest ON audit_log (time DESC, id DESC)');
  await db.raw('CREATE INDEX audit_log_by_type ON audit_log (type text_pattern_ops, time DESC)');
}
