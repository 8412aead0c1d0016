import type { Knex } from 'knex';
import type { Logger } from '../log.js';
import type { AuditEntry, StoredAuditEntry } from './audit-entry.js';
import { auditStore, type AuditQuery } from './audit-store.js';

/** Fields no entry may hold, at any depth: dropped should a caller ever pass one (a second line of defence). */
const SECRET_FIELDS = new Set([
  'secret',
  'client_secret',
  'secret_hash',
  'password',
  'password_hash',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'authorization',
  'cookie',
  'key',
  'api_key',
  'private_key',
]);

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([field]) => !SECRET_FIELDS.has(field.toLowerCase()))
      .map(([field, inner]) => [field, withoutSecrets(inner)]),
  );
}

const SWEEP_BATCH = 5000;
const MAX_SWEEP_BATCHES = 20;

/**
 * The audit log: every admin change and the security events, in the database (listed by
 * GET /audit, `tollgate audit list`) and as a pino line with `audit: true` for log shippers.
 *
 * When the change an entry records has succeeded and the entry cannot be stored (the database
 * went away in between), the change stands and its caller is answered as usual: the pino line
 * was written first, so the entry is not lost to whoever ships the logs, and the failed insert is
 * logged as an error with the entry. An audit write never turns a done change into an error
 * answer, and record() never throws.
 */
export class AuditLog {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    /** Entries older than this are swept (AUDIT_RETENTION_DAYS). */
    private readonly retentionDays: number,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const clean: AuditEntry = { ...entry, detail: withoutSecrets(entry.detail) as Record<string, unknown> };
    this.logger.info({ audit: true, ...clean }, `audit: ${clean.type}`);
    try {
      await auditStore.insert(this.db, clean);
    } catch (error) {
      const { message, code } = error as { message?: string; code?: string };
      this.logger.error({ audit_entry: clean, error: { message, code } }, 'audit entry not stored');
    }
  }

  list(query: AuditQuery): Promise<StoredAuditEntry[]> {
    return auditStore.list(this.db, query);
  }

  /** Deletes entries older than the retention, in bounded batches; run by the sweeper. */
  async sweep(): Promise<number> {
    const before = new Date(Date.now() - this.retentionDays * 86_400_000);
    let total = 0;
    for (let batch = 0; batch < MAX_SWEEP_BATCHES; batch += 1) {
      const deleted = await auditStore.deleteOlderThan(this.db, before, SWEEP_BATCH);
      total += deleted;
      if (deleted < SWEEP_BATCH) break;
    }
    return total;
  }
}
