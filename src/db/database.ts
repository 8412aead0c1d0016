import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { PGlite } from '@electric-sql/pglite';
import { createLogger, type Logger } from '../log.js';
import { RepeatedLog } from '../lib/repeated-log.js';
import { lockDataDir } from './data-dir-lock.js';
import { createEmbeddedCluster } from './embedded-cluster.js';
import { OwnerOnlyNodeFS } from './owner-only-nodefs.js';

export type { Knex };

export interface Database {
  knex: Knex;
  /** 'embedded' is PGlite in DATA_DIR; 'postgres' an external server. Same SQL either way. */
  kind: 'embedded' | 'postgres';
  /**
   * Runs `work` on a connection of its own without the request timeouts below: migrations may
   * rewrite a large table, or wait for another instance's migration lock, for longer than any
   * request should wait. On the embedded database, the one connection there is.
   */
  unbounded<T>(work: (knex: Knex) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Connections to an external PostgreSQL. */
  poolSize?: number;
  /** Bounds on waiting for an external PostgreSQL, in milliseconds (defaults below). */
  timeouts?: Partial<DatabaseTimeouts>;
  /** Where knex's own warnings go (rate-limited); a logger of its own when not given. */
  logger?: Logger;
}

/**
 * knex writes a warning to the console for every failed pool acquire and every dropped
 * connection: while the database is away, one line (with a stack) per request, beside the request's
 * own failure, which the error boundary already logs. Here they become log lines, one per kind
 * per 10 s with a count.
 */
function knexLog(logger: Logger): Knex.Config['log'] {
  const repeated = new RepeatedLog(logger);
  const kindOf = (message: string) => (message.split('\n')[0] ?? '').replace(/\d+/g, '#').slice(0, 80);
  return {
    warn: (message: string) =>
      repeated.warn(`knex: ${kindOf(message)}`, { detail: message.split('\n')[0] }, 'database pool warning'),
    error: (message: string) =>
      repeated.error(`knex: ${kindOf(message)}`, { detail: message.split('\n')[0] }, 'database pool error'),
    deprecate: (method: string, alternative: string) =>
      repeated.warn(`knex deprecated: ${method}`, { method, alternative }, 'knex deprecation'),
    debug: () => {},
  };
}

/**
 * The contract: losing the database answers 503 and never hangs a request past 10 s. A refused or
 * reset connection fails at once; these bound the cases that would otherwise wait forever — a
 * server that accepts no connection, or stops answering on one that is open.
 */
export interface DatabaseTimeouts {
  /** Opening a connection (pg `connectionTimeoutMillis`). */
  connect: number;
  /** Waiting for a free connection of the pool (knex `acquireConnectionTimeout`). */
  acquire: number;
  /**
   * One statement, enforced by the server (`statement_timeout`, SQLSTATE 57014). Migrations run
   * without it, on a connection of their own (Database.unbounded).
   */
  statement: number;
  /** One query, enforced by the client when the server does not answer at all (pg `query_timeout`). */
  query: number;
}

/**
 * The worst wait is a full pool then a silent server: acquire + query = 10 s. Tollgate's own
 * queries take milliseconds; 5 s is a query gone wrong, not a slow one.
 */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connect: 3_000,
  acquire: 4_000,
  statement: 5_000,
  query: 6_000,
};

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts };
    const knex = knexFactory({
      client: 'pg',
      connection: {
        connectionString: options.databaseUrl,
        connectionTimeoutMillis: timeouts.connect,
        statement_timeout: timeouts.statement,
        query_timeout: timeouts.query,
        // Notices a peer that vanished without closing the connection (a host gone, a partition).
        keepAlive: true,
      },
      pool: { min: 0, max: options.poolSize ?? 10 },
      acquireConnectionTimeout: timeouts.acquire,
      log: knexLog(options.logger ?? createLogger('info')),
    });
    const unbounded = async <T>(work: (knex: Knex) => Promise<T>): Promise<T> => {
      const single = knexFactory({
        client: 'pg',
        connection: {
          connectionString: options.databaseUrl,
          connectionTimeoutMillis: timeouts.connect,
          keepAlive: true,
        },
        pool: { min: 0, max: 1 },
        acquireConnectionTimeout: timeouts.acquire,
        log: knexLog(options.logger ?? createLogger('info')),
      });
      try {
        return await work(single);
      } finally {
        await single.destroy();
      }
    };
    return { knex, kind: 'postgres', unbounded, close: () => knex.destroy() };
  }

  const release = lockDataDir(options.dataDir);
  try {
    const pgdata = path.join(options.dataDir, 'pgdata');
    await createEmbeddedCluster(pgdata);
    // knex-pglite fixes the pool at one connection: PGlite is a single-user database. Its
    // PostgreSQL would take 128 MB of shared buffers, most of the process's memory; an
    // authorization server's working set is far smaller.
    // One instance, handed to the dialect: it may ask for its connection more than once, and two
    // PGlite instances on one directory corrupt it.
    const pglite = new PGlite({ fs: new OwnerOnlyNodeFS(pgdata), postgresqlconf: 'shared_buffers = 16MB' });
    const knex = knexFactory({
      client: ClientPgLite,
      dialect: 'postgres',
      connection: () => ({ pglite }),
    } as Knex.Config);
    return {
      knex,
      kind: 'embedded',
      unbounded: (work) => work(knex),
      async close() {
        try {
          await knex.destroy();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
