import crypto from 'node:crypto';
import fs from 'node:fs';
import { ensureOwnerOnlyDirectory } from '../lib/owner-only-directory.js';
import { sha256Bytes } from '../lib/sha256.js';
import { adminTokenPath } from '../lib/admin-defaults.js';

/**
 * ADMIN_TOKEN when set; otherwise one generated at first start into $DATA_DIR/admin-token (0600),
 * in a DATA_DIR only its owner can enter (refused otherwise, also with DATABASE_URL).
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  ensureOwnerOnlyDirectory(dataDir);
  const file = adminTokenPath(dataDir);
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = `tga_${crypto.randomBytes(32).toString('base64url')}`;
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Constant-time comparison of a presented bearer token with the admin token. */
export function adminTokenMatches(presented: string, expected: string): boolean {
  return crypto.timingSafeEqual(sha256Bytes(presented), sha256Bytes(expected));
}
