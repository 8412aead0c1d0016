import crypto from 'node:crypto';
import { sha256Base64url, sha256Bytes } from '../lib/sha256.js';

/**
 * Client secrets are 256 random bits generated here, shown once and stored only as a SHA-256
 * hash. A slow KDF would add nothing against guessing a 256-bit random value but would cap token
 * throughput; a plain hash is enough to make a database dump useless for authenticating.
 * The `tgs_` prefix lets secret scanners recognise a leaked Tollgate secret.
 */
const SECRET_PREFIX = 'tgs_';
const HASH_PREFIX = 'sha256:';

export function generateClientSecret(): string {
  return SECRET_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return HASH_PREFIX + sha256Base64url(secret);
}

/** Constant-time: both sides are fixed-length digests. */
export function verifyClientSecret(presented: unknown, storedHash: string | undefined): boolean {
  if (typeof presented !== 'string' || !storedHash?.startsWith(HASH_PREFIX)) return false;
  const expected = Buffer.from(storedHash.slice(HASH_PREFIX.length), 'base64url');
  const actual = sha256Bytes(presented);
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}
