/**
 * What the audit log records. Admin changes carry the admin credential's fingerprint as actor;
 * scheduled jobs `system`; security events the client (or `anonymous`) that caused them.
 */
export const AUDIT_TYPES = [
  'api.created',
  'api.updated',
  'api.deleted',
  'client.created',
  'client.updated',
  'client.disabled',
  'client.enabled',
  'client.deleted',
  'client.secret_rotated',
  'client.key_added',
  'client.key_removed',
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.password_changed',
  'key.rotated',
  'key.revoked',
  'refresh_token.reused',
  'sign_in.failed',
  'sign_in.throttled',
] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];

/** The actor of what a scheduled job did (key rotation by KEY_ROTATION_DAYS). */
export const SYSTEM_ACTOR = 'system';
/** The actor of a security event no client can be named for (a sign-in form). */
export const ANONYMOUS_ACTOR = 'anonymous';

export interface AuditEntry {
  type: AuditType;
  actor: string;
  /** What the entry is about: a client id, user id, API id, kid, or the username a sign-in tried. */
  subject: string | null;
  /** The caller's address (TRUST_PROXY decides which); none for scheduled jobs. */
  ip: string | null;
  /** What changed or happened, never a secret (AuditLog.record drops any field named like one). */
  detail: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
  time: Date;
}

/** The admin API's and CLI's JSON shape (the contract's `[{"id", "time", …}]`). */
export function auditEntryToJson(entry: StoredAuditEntry) {
  return {
    id: entry.id,
    time: entry.time.toISOString(),
    type: entry.type,
    actor: entry.actor,
    subject: entry.subject,
    ip: entry.ip,
    detail: entry.detail,
  };
}
