import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { modesUnder, spawnTollgate, startTollgate, type TollgateProcess } from '../helpers/tollgate-process.js';

/**
 * DATA_DIR holds the embedded database and the generated admin token: readable by its owner only
 * (folders 0700, files 0600), and refused at start when group or others can get in, as
 * PostgreSQL refuses such a data directory. Always the embedded database: that is what lives there.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-data-dir-'));
const dataDir = path.join(scratch, 'data');
const started: TollgateProcess[] = [];
afterEach(() => {
  for (const server of started.splice(0)) server.kill();
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Starts on `dir` without ADMIN_TOKEN (so the token is generated there), makes it write, stops it. */
async function runOnce(dir: string): Promise<void> {
  const server = await startTollgate({ env: { DATA_DIR: dir, ADMIN_TOKEN: undefined }, sharedDatabase: false });
  started.push(server);
  const token = fs.readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
  const created = await fetch(`http://127.0.0.1:${server.adminPort}/apis`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ identifier: 'https://orders.example.com', scopes: ['orders:read'] }),
  });
  expect([201, 409]).toContain(created.status);
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

function loose(root: string): string[] {
  return modesUnder(root)
    .filter(({ mode, directory }) => mode !== (directory ? 0o700 : 0o600))
    .map(({ path: found, mode }) => `0${mode.toString(8)} ${path.relative(root, found) || '.'}`);
}

describe('DATA_DIR permissions', () => {
  it('a first start leaves DATA_DIR and everything in it owner-only: folders 0700, files 0600', async () => {
    await runOnce(dataDir);
    const entries = modesUnder(dataDir);
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.some((entry) => entry.path.endsWith('admin-token'))).toBe(true);
    expect(loose(dataDir)).toEqual([]);
  }, 180_000);

  it('a cluster written before (files 0666, folders 0755) is made owner-only at the next start', async () => {
    const pgdata = path.join(dataDir, 'pgdata');
    for (const entry of modesUnder(pgdata)) fs.chmodSync(entry.path, entry.directory ? 0o755 : 0o666);
    expect(loose(pgdata).length).toBeGreaterThan(100);
    await runOnce(dataDir);
    expect(loose(dataDir)).toEqual([]);
  }, 180_000);

  for (const mode of [0o755, 0o750, 0o707]) {
    it(`a pre-existing DATA_DIR at 0${mode.toString(8)} is refused with one line, and nothing is written in it`, async () => {
      const exposed = fs.mkdtempSync(path.join(scratch, 'exposed-'));
      fs.chmodSync(exposed, mode);
      const server = await spawnTollgate({ env: { DATA_DIR: exposed, ADMIN_TOKEN: undefined }, sharedDatabase: false });
      started.push(server);
      const exit = await server.exited;
      expect(exit.code).toBe(1);
      expect(server.stderr()).toBe(
        `tollgate: could not start: data directory "${exposed}" has invalid permissions (0${mode.toString(8)}); should be u=rwx (0700): run chmod 700 "${exposed}"\n`,
      );
      expect(fs.readdirSync(exposed)).toEqual([]);
      expect(fs.statSync(exposed).mode & 0o777).toBe(mode);
    }, 60_000);
  }

  it('with DATABASE_URL and no ADMIN_TOKEN, the token goes into DATA_DIR under the same rule', async () => {
    const exposed = fs.mkdtempSync(path.join(scratch, 'exposed-'));
    fs.chmodSync(exposed, 0o755);
    // Nothing needs to listen here: the start must stop before connecting anywhere.
    const server = await spawnTollgate({
      env: { DATA_DIR: exposed, ADMIN_TOKEN: undefined, DATABASE_URL: 'postgres://127.0.0.1:1/none' },
      sharedDatabase: false,
    });
    started.push(server);
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.stderr()).toContain(`data directory "${exposed}" has invalid permissions (0755)`);
    expect(fs.readdirSync(exposed)).toEqual([]);
  }, 60_000);
});
