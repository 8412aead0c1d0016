import crypto from 'node:crypto';

// One place for "SHA-256 of this": the stored forms (artefact ids, client-secret hashes, device-code
// hashes, throttle keys, kek ids) must stay byte-for-byte what earlier versions wrote.
// crypto.hash is the one-shot form (Node ≥ 21.7; Tollgate needs ≥ 22.12, see runtime-check.ts):
// it skips the Hash object that createHash builds, which measured faster on the client-secret
// check that runs on every client_credentials request.

/** SHA-256 of `data` (a string is hashed as UTF-8), as unpadded base64url (RFC 4648 §5). */
export function sha256Base64url(data: string | Buffer): string {
  return crypto.hash('sha256', data, 'base64url');
}

/** SHA-256 of `data` (a string is hashed as UTF-8), as 32 bytes, e.g. for crypto.timingSafeEqual. */
export function sha256Bytes(data: string | Buffer): Buffer {
  return crypto.hash('sha256', data, 'buffer');
}

/** SHA-256 of `data` (a string is hashed as UTF-8), as 64 lowercase hex digits (fingerprints people compare). */
export function sha256Hex(data: string | Buffer): string {
  return crypto.hash('sha256', data, 'hex');
}
