import { z } from 'zod';
import { refuse } from './wording.js';

// GET /audit takes its filters as query parameters: every value arrives as text, once.

/** A date, or a date and time with its offset (a time without one would depend on the server's zone). */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d))?$/;

/** The moment `value` names, or undefined; JavaScript's Date would read 2026-02-30 as 2 March. */
function isoMoment(value: string): Date | undefined {
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const since = z
  .string()
  .meta({ description: 'only entries at or after this moment (ISO 8601, e.g. 2026-01-31T12:00:00Z or 2026-01-31)' })
  .transform(
    (value, ctx) =>
      isoMoment(value) ??
      refuse(ctx, (field) => `${field} must be an ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z`),
  );

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
