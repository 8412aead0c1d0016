import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** ADMIN_TOKEN when set; otherwise one generated at first start into $DATA_DIR/admin-token (0600). */
export function resolveAdminToken(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'admin-token');
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = `tga_${crypto.randomBytes(32).toString('base64url')}`;
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of a presented bearer token with the admin token. */
export function adminTokenMatches(presented: string, expected: string): boolean {
  return crypto.timingSafeEqual(digest(presented), digest(expected));
}
