import { z } from 'zod';
import { refuse } from './wording.js';

// GET /audit takes its filters as query parameters: every value arrives as text, once.

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

const since = z
  .string()
  .meta({ description: 'only entries at or after this moment (ISO 8601, e.g. 2026-01-31T12:00:00Z or 2026-01-31)' })
  .transform((value, ctx) => {
    const time = ISO_8601.test(value) ? new Date(value) : undefined;
    if (!time || Number.isNaN(time.getTime()))
      return refuse(ctx, (field) => `${field} must be an ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z`);
    return time;
  });

const type = z
  .string()
  .meta({ description: 'one type (client.created), or every type under a prefix (client.*)' })
  .transform((value, ctx) => {
    if (/^[a-z_]+\.[a-z_]+$/.test(value)) return value;
    // `client.*` is asked of the store as the prefix `client.`.
    if (/^[a-z_]+\.\*$/.test(value)) return value.slice(0, -1);
    return refuse(
      ctx,
      (field) => `${field} must be an entry type such as client.created, or a prefix such as client.*`,
    );
  });

export const MAX_AUDIT_LIMIT = 1000;

const limit = z
  .string()
  .meta({ description: `how many entries at most (1 – ${MAX_AUDIT_LIMIT}, default 100)` })
  .transform((value, ctx) => {
    const count = /^\d{1,4}$/.test(value) ? Number(value) : 0;
    if (count < 1 || count > MAX_AUDIT_LIMIT)
      return refuse(ctx, (field) => `${field} must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`);
    return count;
  });

/** GET /audit?since=…&type=…&limit=… */
export const listAuditQuery = z
  .strictObject({ since: since.optional(), type: type.optional(), limit: limit.optional() })
  .transform((query) => ({ since: query.since, type: query.type, limit: query.limit ?? 100 }));
export type ListAuditInput = z.output<typeof listAuditQuery>;
