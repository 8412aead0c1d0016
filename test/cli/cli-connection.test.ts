import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

describe('tollgate errors and connection', () => {
  it('refuses an unknown command', async () => {
    const run = await tollgate(['frobnicate', '--json']);
    expect(expectFailure(run)).toContain('frobnicate');
  });

  it('refuses an unknown action', async () => {
    const run = await tollgate(['apis', 'frobnicate']);
    expectFailure(run);
    expect(run.stderr).toContain('apis');
  });

  it('refuses an unknown flag, naming it', async () => {
    const run = await tollgate(['apis', 'list', '--bogus', '--json']);
    expect(expectFailure(run)).toContain('--bogus');
    const create = await tollgate([
      'clients',
      'create',
      '--name',
      'x',
      '--grant-types',
      'client_credentials',
      '--secret',
      'mine',
    ]);
    expect(expectFailure(create)).toContain('--secret');
  });

  it('refuses a missing or extra ID', async () => {
    expectFailure(await tollgate(['apis', 'show']));
    expectFailure(await tollgate(['clients', 'show', 'a', 'b']));
  });

  it('says it cannot reach the admin API when nothing listens there', async () => {
    const run = await tollgate(['apis', 'list', '--json'], { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:9' });
    const message = expectFailure(run);
    expect(message).toMatch(/cannot reach the admin API/i);
    expect(message).toContain('http://127.0.0.1:9');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a wrong admin token', async () => {
    const run = await tollgate(['apis', 'list', '--json'], { TOLLGATE_ADMIN_TOKEN: 'not-the-token' });
    expect(expectFailure(run)).toMatch(/admin token/i);
  });

  it('reads the token from $DATA_DIR/admin-token when TOLLGATE_ADMIN_TOKEN is unset', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cli-data-'));
    fs.writeFileSync(path.join(dataDir, 'admin-token'), `${server.adminToken}\n`, { mode: 0o600 });
    const keys = await tollgateJson<unknown[]>(['keys', 'list'], {
      TOLLGATE_ADMIN_TOKEN: undefined,
      DATA_DIR: dataDir,
    });
    expect(Array.isArray(keys)).toBe(true);
    expect(keys.length).toBeGreaterThanOrEqual(8);

    const prefix = unique('cld');
    const api = await tollgateJson(
      ['apis', 'create', '--identifier', `https://${prefix}.example.com`, '--scopes', `${prefix}:read`],
      { TOLLGATE_ADMIN_TOKEN: undefined, DATA_DIR: dataDir },
    );
    expect((await server.admin('get', `/apis/${api.id}`)).status).toBe(200);
  });

  it('says where it looked when there is no token at all', async () => {
    const run = await tollgate(['apis', 'list'], { TOLLGATE_ADMIN_TOKEN: undefined, DATA_DIR: cli.emptyDir });
    const message = expectFailure(run);
    expect(message).toContain('TOLLGATE_ADMIN_TOKEN');
    expect(message).toContain(cli.emptyDir);
  });

  it('a token from the file with a wrong value is refused, not silently replaced', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cli-data-'));
    fs.writeFileSync(path.join(dataDir, 'admin-token'), 'stale-token\n', { mode: 0o600 });
    const run = await tollgate(['apis', 'list', '--json'], { TOLLGATE_ADMIN_TOKEN: undefined, DATA_DIR: dataDir });
    expect(expectFailure(run)).toMatch(/admin token/i);
    expect(fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8')).toBe('stale-token\n');
  });
});
