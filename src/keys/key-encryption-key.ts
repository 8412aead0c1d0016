import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseKey } from '../config.js';

/**
 * The key-encryption key. Production sets KEY_ENCRYPTION_KEY (config refuses DATABASE_URL
 * without it); the embedded default generates one into keys/ so `npm start` works with nothing set.
 */
export function resolveKeyEncryptionKey(options: { configured: Buffer | undefined; keysDir: string }): Buffer {
  if (options.configured) return options.configured;
  const file = path.join(options.keysDir, 'key-encryption-key');
  if (fs.existsSync(file)) {
    const key = parseKey(`the key-encryption key in ${file}`, fs.readFileSync(file, 'utf8'));
    if (key) return key;
  }
  fs.mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
  const key = crypto.randomBytes(32);
  fs.writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
