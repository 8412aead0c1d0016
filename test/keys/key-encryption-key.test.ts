import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { MissingKeyEncryptionKeyError, resolveKeyEncryptionKey } from '../../src/keys/key-encryption-key.js';

/**
 * Where the key-encryption key comes from, without a server: the configured one, else the file in
 * KEYS_DIR, else a new one — never over a database holding values sealed under some key. The
 * database is a stand-in answering whether each sealed table holds a row. As a started process:
 * test/keys/key-encryption-key-location.test.ts.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-kek-unit-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
function keysDir(): string {
  dirs += 1;
  return path.join(scratch, `keys-${dirs}`);
}

/** A database whose named tables hold a row each; the others are empty. */
function databaseHolding(...tables: string[]): Knex {
  const db = (table: string) => ({ first: async () => (tables.includes(table) ? { '?column?': 1 } : undefined) });
  return Object.assign(db, { raw: (sql: string) => sql }) as unknown as Knex;
}

const modeOf = (target: string) => fs.statSync(target).mode & 0o777;

describe('resolveKeyEncryptionKey', () => {
  it('uses KEY_ENCRYPTION_KEY when set, and writes nothing', async () => {
    const configured = Buffer.alloc(32, 7);
    const dir = keysDir();
    await expect(
      resolveKeyEncryptionKey({ configured, keysDir: dir, db: databaseHolding('signing_keys') }),
    ).resolves.toBe(configured);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('generates 32 random bytes into KEYS_DIR (folder 0700, file 0600) over an empty database, and reads them back after', async () => {
    const dir = keysDir();
    const key = await resolveKeyEncryptionKey({ configured: undefined, keysDir: dir, db: databaseHolding() });
    expect(key).toHaveLength(32);
    const file = path.join(dir, 'key-encryption-key');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${key.toString('base64url')}\n`);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    // Once sealed values exist, the same key is found again.
    await expect(
      resolveKeyEncryptionKey({ configured: undefined, keysDir: dir, db: databaseHolding('signing_keys') }),
    ).resolves.toEqual(key);
    const other = await resolveKeyEncryptionKey({ configured: undefined, keysDir: keysDir(), db: databaseHolding() });
    expect(other.equals(key)).toBe(false);
  });

  it('makes a key file and folder that others could read owner-only when it uses them', async () => {
    const dir = keysDir();
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'key-encryption-key');
    fs.writeFileSync(file, `${Buffer.alloc(32, 1).toString('base64url')}\n`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await expect(
      resolveKeyEncryptionKey({ configured: undefined, keysDir: dir, db: databaseHolding() }),
    ).resolves.toEqual(Buffer.alloc(32, 1));
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
  });

  it.each([['signing_keys'], ['server_secrets']])(
    'refuses to generate a key over a database whose %s holds sealed values',
    async (table) => {
      const dir = keysDir();
      const result = resolveKeyEncryptionKey({ configured: undefined, keysDir: dir, db: databaseHolding(table) });
      await expect(result).rejects.toThrow(MissingKeyEncryptionKeyError);
      await expect(result).rejects.toThrow(
        /set KEYS_DIR to the folder holding key-encryption-key, or KEY_ENCRYPTION_KEY/,
      );
      expect(fs.existsSync(path.join(dir, 'key-encryption-key'))).toBe(false);
    },
  );

  it('refuses a key file that is not 32 bytes in base64url, naming the file', async () => {
    const dir = keysDir();
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'key-encryption-key'), 'too-short\n', { mode: 0o600 });
    const result = resolveKeyEncryptionKey({ configured: undefined, keysDir: dir, db: databaseHolding() });
    await expect(result).rejects.toThrow(ConfigError);
    await expect(result).rejects.toThrow(/the key-encryption key in .*key-encryption-key must be 32 random bytes/);
  });
});
