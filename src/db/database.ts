import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { lockDataDir } from './data-dir-lock.js';

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

export function openDatabase(options: DatabaseOptions): Database {
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
    // knex-pglite fixes the pool at one connection: PGlite is a single-user database.
    const knex = knexFactory({
      client: ClientPgLite,
      dialect: 'postgres',
      connection: { filename: path.join(options.dataDir, 'pgdata') },
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
