import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

// The shape of a Tollgate API key, and nothing else: no I/O, no import of the server. One copy,
// here in @tollgate/resource-server, which checks a key's checksum before asking Tollgate anything;
// the server, which issues and verifies keys, imports it as '@tollgate/resource-server/api-key-format'
// (resolved through the package's built dist/: `npm run build` builds the package first), so that
// the library and the server can never disagree on what a key looks like.
//
// A key is `tgk_` + 43 base62 characters of randomness + 6 base62 characters of checksum:
// - base62 rather than base64url: no `-` or `_`, so a double click selects the whole key, a
//   secret scanner's word boundaries hold, and it survives URL- and form-encoding unchanged
//   (GitHub's tokens made the same choice);
// - 43 characters drawn uniformly from 62 carry 43·log2(62) ≈ 256.03 bits;
// - the checksum is the CRC-32 of those 43 characters, in 6 base62 digits (62^6 > 2^32). A CRC
//   detects every error within 32 consecutive bits, so any one changed character is caught; a
//   truncated or extended key fails the fixed length first. It tells a typo from a key without a
//   database look-up; it is public and no secret (anyone can compute it).

export const API_KEY_PREFIX = 'tgk_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
/** How many characters after `tgk_` the admin API shows to recognise a key by. */
const RECOGNISABLE_LENGTH = 8;

/** The regular expression the README documents for secret scanners (without anchors). */
export const API_KEY_PATTERN_SOURCE = `tgk_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}`;
const SHAPE = new RegExp(`^${API_KEY_PATTERN_SOURCE}$`);

function base62(value: number, width: number): string {
  let text = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) text = ALPHABET[rest % 62] + text;
  return text.padStart(width, '0');
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_LENGTH);
}

/** Uniform base62 characters: bytes ≥ 248 (= 4·62) are dropped so that `% 62` has no bias. */
function randomBase62(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) text += ALPHABET[byte % 62];
      if (text.length === length) break;
    }
  }
  return text;
}

/** A new key: shown once to the operator, never stored. */
export function generateApiKey(): string {
  const random = randomBase62(RANDOM_LENGTH);
  return API_KEY_PREFIX + random + checksum(random);
}

/** Whether `text` is shaped like a key and its checksum holds (no look-up: it may still be unknown). */
export function looksLikeApiKey(text: unknown): text is string {
  if (typeof text !== 'string' || !SHAPE.test(text)) return false;
  const random = text.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + RANDOM_LENGTH);
  return text.slice(API_KEY_PREFIX.length + RANDOM_LENGTH) === checksum(random);
}

/** The part of a key people may see to recognise it (`tgk_` and 8 characters): ~48 of its 256 bits. */
export function recognisablePrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + RECOGNISABLE_LENGTH);
}
