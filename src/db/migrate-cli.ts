import '../runtime-check.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from './database.js';
import { migrate } from './migrate.js';

/** `npm run migrate`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await database.unbounded((knex) => migrate(knex));
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `tollgate migrate: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`,
  );
  process.exit(1);
});
