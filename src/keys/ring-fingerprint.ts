import type { KeyState } from './signing-key-store.js';

/**
 * Which keys a ring holds and in which state, as one string: equal exactly when two rings hold
 * the same keys in the same states. Computed here only, in JavaScript, for the ring loaded and for
 * the ring in the database alike. Sorting in SQL instead would follow the database's collation
 * (ICU or glibc `en_US` order case-insensitively, the "C" collation by byte), and the two strings
 * would differ on every check. Kids are base64url (RFC 7638 thumbprints), so comparing UTF-16
 * code units here is byte order.
 */
export function ringFingerprint(keys: readonly { kid: string; state: KeyState }[]): string {
  return keys
    .map((key) => `${key.kid}:${key.state}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(',');
}
