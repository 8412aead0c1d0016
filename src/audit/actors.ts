import { sha256Hex } from '../lib/sha256.js';

/**
 * Which admin credential made a change: `admin:` and the first 8 hex digits of its SHA-256. It
 * tells credentials apart (an old token from a rotated one) and can be checked against a token
 * one holds, yet says nothing that helps guess one: the token is at least 16 characters (a
 * generated one 32 random bytes), and 32 bits of its hash cannot be searched back to it.
 */
export function adminActor(adminToken: string): string {
  return `admin:${sha256Hex(adminToken).slice(0, 8)}`;
}
