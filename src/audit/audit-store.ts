import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import type { AuditEntry, AuditType, StoredAuditEntry } from './audit-entry.js';

interface AuditRow {
  id: string | number;
  time: Date;
  type: string;
  actor: string;
  subject: string | null;
  ip: string | null;
  detail: Record<string, unknown> | string;
}

export interface AuditQuery {
  /** Entries at or after this moment. */
  since?: Date;
  /** An exact type, or a prefix ending in `.` (`client.` for every client entry). */
  type?: string;
  limit: number;
}

function fromRow(row: AuditRow): StoredAuditEntry {
  return {
    // bigint comes back from pg as text; ids stay far below 2^53.
    id: Number(row.id),
    time: row.time,
    type: row.type as AuditType,
    actor: row.actor,
    subject: row.subject,
    ip: row.ip,
    detail: typeof row.detail === 'string' ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail,
  };
}

/** The audit_log table (migration 008). */
export const auditStore = {
  async insert(db: Knex, entry: AuditEntry): Promise<void> {
    await db('audit_log').insert({
      type: entry.type,
      actor: entry.actor,
      subject: entry.subject,
      ip: entry.ip,
      detail: JSON.stringify(entry.detail),
    });
  },

  async list(db: Knex, query: AuditQuery): Promise<StoredAuditEntry[]> {
    const select = db<AuditRow>('audit_log')
      .select('id', 'time', 'type', 'actor', 'subject', 'ip', 'detail')
      .orderBy([
        { column: 'time', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(query.limit);
    if (query.since) select.where('time', '>=', query.since);
    if (query.type?.endsWith('.')) {
      // The contract allows only [a-z_.] in a type: nothing here for LIKE to read as a wildcard.
      select.where('type', 'like', `${query.type}%`);
    } else if (query.type) {
      select.where('type', query.type);
    }
    return (await select).map((row) => fromRow(row as AuditRow));
  },

  /** Deletes up to `batch` entries older than `before`; how many it deleted. */
  async deleteOlderThan(db: Knex, before: Date, batch: number): Promise<number> {
    return affectedRows(
      await db.raw(
        'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time < ? ORDER BY time LIMIT ?)',
        [before, batch],
      ),
    );
  },
};
