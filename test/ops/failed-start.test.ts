import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/log.js';
import { createTollgate } from '../../src/tollgate.js';
import { isolatedPostgres, TEST_KEY_ENCRYPTION_KEY } from '../helpers/database.js';

/**
 * A start that fails late — here at the CSRF secret, one of the last steps, whose sealed value in
 * the database is damaged — closes the database; nothing may go on using it afterwards. The
 * key-maintenance and sweeper timers run every second so a leftover one shows within the wait.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-failed-start-'));
const database = await isolatedPostgres();
afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('a start that fails after the database is open', () => {
  it('leaves no timer running: nothing touches the closed pool afterwards', async () => {
    const config = {
      ...loadConfig({
        DATA_DIR: path.join(scratch, 'data'),
        ADMIN_TOKEN: 'an-admin-token-for-this-test',
        KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
        KEY_RING_CHECK_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
        ...(database ? { DATABASE_URL: database.url } : {}),
      }),
      keysDir: path.join(scratch, 'keys'),
    };
    const seeding = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    await migrate(seeding.knex);
    await seeding.knex('server_secrets').insert({ name: 'csrf-key', sealed: 'v1.damaged.AAAA.AAAA.AAAA' });
    await seeding.close();

    const logs: string[] = [];
    const logger = createLogger(
      'debug',
      new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    await expect(createTollgate(config, logger)).rejects.toThrow(/sealed/);
    const linesAtFailure = logs.length;

    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(logs.slice(linesAtFailure)).toEqual([]);
  }, 120_000);
});
