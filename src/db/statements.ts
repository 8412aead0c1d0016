import type { Knex } from 'knex';
import { PGlite } from '@electric-sql/pglite';

/**
 * A statement on a request's hot path. On PostgreSQL it runs as a named prepared statement:
 * parsed and planned once per connection, then only bound and executed. Values are `$n`.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export function statement(name: string, text: string): Statement {
  return { name: `tollgate_${name}`, text: text.replace(/\s+/g, ' ').trim() };
}

export interface StatementResult<Row> {
  rows: Row[];
  /** Rows an INSERT, UPDATE or DELETE touched. */
  rowCount: number;
}

interface PgConnection {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * Runs a statement on a connection from knex's own pool — the same pool, limits and broken-
 * connection handling as every other query, and on PGlite the one connection, so a statement
 * never lands inside a transaction knex holds open — without knex's per-call query building.
 */
export async function runStatement<Row>(
  db: Knex,
  statement: Statement,
  values: unknown[],
): Promise<StatementResult<Row>> {
  const client = db.client as {
    acquireConnection(): Promise<unknown>;
    releaseConnection(connection: unknown): Promise<unknown>;
  };
  const connection = await client.acquireConnection();
  try {
    if (connection instanceof PGlite) {
      const result = await connection.query<Row>(statement.text, values);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
    }
    const result = await (connection as PgConnection).query({ name: statement.name, text: statement.text, values });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  } finally {
    await client.releaseConnection(connection);
  }
}
