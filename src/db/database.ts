import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import { createEmbeddedCluster } from './embedded-cluster.js';
import { OwnerOnlyNodeFS } from './owner-only-nodefs.js';

export type { Knex };

export interface Database {
  knex: Knex;
  /** 'embedded' is PGlite in DATA_DIR; 'postgres' an external server. Same SQL either way. */
  kind: 'embedded' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Connections to an external PostgreSQL. */
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: options.databaseUrl,
      pool: { min: 0, max: options.poolSize ?? 10 },
      acquireConnectionTimeout: 10_000,
    });
    return { knex, kind: 'postgres', close: () => knex.destroy() };
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
