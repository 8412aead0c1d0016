import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { modesUnder, ROOT, spawnTollgate, startTollgate, type TollgateProcess } from '../helpers/tollgate-process.js';

/**
 * Where the embedded default keeps its generated key-encryption key (KEYS_DIR), and that a start
 * never generates a new one over keys sealed under another. The built server runs as a child
 * process from a working directory of its own; always on the embedded database, the only one
 * for which a key is generated.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-kek-'));
const elsewhere = fs.mkdtempSync(path.join(scratch, 'cwd-'));
const dataDir = path.join(scratch, 'data');
const keysDir = path.join(scratch, 'keys-of-this-install');
const started: TollgateProcess[] = [];
afterEach(() => {
  for (const server of started.splice(0)) server.kill();
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function withoutKek(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { KEY_ENCRYPTION_KEY: undefined, DATA_DIR: dataDir, ...env };
}

describe('KEYS_DIR', () => {
  it("defaults to the project's keys/, whatever the working directory", () => {
    const before = process.cwd();
    try {
      process.chdir(elsewhere);
      expect(loadConfig({}).keysDir).toBe(path.join(ROOT, 'keys'));
      // A relative KEYS_DIR is taken from the project too, never from the working directory.
      expect(loadConfig({ KEYS_DIR: 'secrets/kek' }).keysDir).toBe(path.join(ROOT, 'secrets/kek'));
      expect(loadConfig({ KEYS_DIR: keysDir }).keysDir).toBe(keysDir);
    } finally {
      process.chdir(before);
    }
  });

  it('holds the generated key (folder 0700, file 0600), and nothing goes to the working directory', async () => {
    const server = await startTollgate({
      env: withoutKek({ KEYS_DIR: keysDir }),
      cwd: elsewhere,
      sharedDatabase: false,
    });
    started.push(server);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    expect(
      modesUnder(keysDir).map(
        ({ path: found, mode }) => `0${mode.toString(8)} ${path.relative(keysDir, found) || '.'}`,
      ),
    ).toEqual(['0700 .', '0600 key-encryption-key']);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  }, 180_000);

  it('a KEYS_DIR that others could read is made 0700 when the key is used', async () => {
    fs.chmodSync(keysDir, 0o755);
    const server = await startTollgate({
      env: withoutKek({ KEYS_DIR: keysDir }),
      cwd: elsewhere,
      sharedDatabase: false,
    });
    started.push(server);
    server.child.kill('SIGTERM');
    expect(await server.exited, server.stdout() + server.stderr()).toMatchObject({ code: 0 });
    expect(fs.statSync(keysDir).mode & 0o777).toBe(0o700);
  }, 180_000);
});

describe('a database with sealed keys but no key-encryption key', () => {
  it('stops the start with a message and writes no new key', async () => {
    const empty = path.join(scratch, 'keys-that-are-not-the-right-ones');
    const server = await spawnTollgate({ env: withoutKek({ KEYS_DIR: empty }), cwd: elsewhere, sharedDatabase: false });
    started.push(server);
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    const message = server.stderr();
    expect(message).toMatch(/^tollgate: could not start: the database holds keys sealed under a key-encryption key/);
    expect(message).toContain(path.join(empty, 'key-encryption-key'));
    expect(message).toContain('KEYS_DIR');
    expect(message).toContain('KEY_ENCRYPTION_KEY');
    expect(message.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(empty) ? fs.readdirSync(empty) : []).toEqual([]);
    expect(fs.readdirSync(elsewhere)).toEqual([]);

    // The right folder still opens them.
    const again = await startTollgate({
      env: withoutKek({ KEYS_DIR: keysDir }),
      cwd: elsewhere,
      sharedDatabase: false,
    });
    started.push(again);
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 180_000);
});
