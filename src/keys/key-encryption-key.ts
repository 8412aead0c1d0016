import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { parseKey } from '../config.js';
import { GROUP_AND_OTHER_BITS } from '../lib/owner-only-directory.js';

/** Every table holding values sealed under the key-encryption key (sealed-box.ts). */
const SEALED_TABLES = ['signing_keys', 'server_secrets'] as const;

export class MissingKeyEncryptionKeyError extends Error {
  override name = 'MissingKeyEncryptionKeyError';
}

async function holdsSealedValues(db: Knex): Promise<boolean> {
  for (const table of SEALED_TABLES) {
    if (await db(table).first(db.raw('1'))) return true;
  }
  return false;
}

/**
 * KEYS_DIR holds a secret only this process should read. Its default, the project's keys/, comes
 * from a git checkout at 0755, so it is tightened rather than refused (unlike DATA_DIR).
 */
function makeOwnerOnly(target: string, mode: number): void {
  if (fs.statSync(target).mode & GROUP_AND_OTHER_BITS) fs.chmodSync(target, mode);
}

/**
 * The key-encryption key. Production sets KEY_ENCRYPTION_KEY (config refuses DATABASE_URL
 * without it); the embedded default generates one into KEYS_DIR (0700 folder, 0600 file) so
 * `npm start` works with nothing set — but never over a database that already holds values sealed
 * under some key: a new key could not open them, and the start would fail anyway, now with a
 * useless key file left behind to confuse the next one.
 */
export async function resolveKeyEncryptionKey(options: {
  configured: Buffer | undefined;
  keysDir: string;
  db: Knex;
}): Promise<Buffer> {
  if (options.configured) return options.configured;
  const file = path.join(options.keysDir, 'key-encryption-key');
  if (fs.existsSync(file)) {
    makeOwnerOnly(options.keysDir, 0o700);
    makeOwnerOnly(file, 0o600);
    const key = parseKey(`the key-encryption key in ${file}`, fs.readFileSync(file, 'utf8'));
    if (key) return key;
  }
  if (await holdsSealedValues(options.db)) {
    throw new MissingKeyEncryptionKeyError(
      `the database holds keys sealed under a key-encryption key, but ${file} does not exist: set KEYS_DIR to the folder holding key-encryption-key, or KEY_ENCRYPTION_KEY to its value (a new key would not open them, so none is generated)`,
    );
  }
  fs.mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
  makeOwnerOnly(options.keysDir, 0o700);
  const key = crypto.randomBytes(32);
  fs.writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
