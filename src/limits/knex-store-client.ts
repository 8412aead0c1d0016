import type { Knex } from 'knex';

interface StoreQuery {
  text: string;
  values?: unknown[];
}

interface StoreResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/**
 * rate-limiter-flexible's PostgreSQL store speaks node-postgres (`query({ text, values })` with
 * `$n` placeholders, `rowCount`). Its own knex mode hands that object to the raw connection,
 * which PGlite (one connection, `query(text, params)`) does not accept. So the store gets this
 * client instead: each query goes through knex — the same pool, on PostgreSQL and on PGlite —
 * with `$n` turned into knex's `?` bindings (a `$n` may repeat), and `rowCount` counted from the
 * rows when there are some (knex-pglite reports a SELECT's affected rows, 0, as its rowCount).
 */
export function knexStoreClient(db: Knex) {
  return {
    async query({ text, values = [] }: StoreQuery): Promise<StoreResult> {
      const bindings: unknown[] = [];
      const sql = text.replace(/\$(\d+)/g, (_match, index: string) => {
        bindings.push(values[Number(index) - 1]);
        return '?';
      });
      const result = (await db.raw(sql, bindings as Knex.RawBinding[])) as {
        rows?: Record<string, unknown>[];
        rowCount?: number | null;
      };
      const rows = result.rows ?? [];
      return { rows, rowCount: Math.max(rows.length, result.rowCount ?? 0) };
    },
  };
}
