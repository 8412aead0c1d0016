import crypto from 'node:crypto';
import { sha256Base64url } from '../lib/sha256.js';

/**
 * Authenticated encryption at rest (AES-256-GCM) for private keys and server secrets.
 * Sealed form: `v1.<kek id>.<iv>.<ciphertext>.<tag>`, base64url parts. The kek id (a hash prefix
 * of the key-encryption key) says which key sealed it, so a rotation can tell old from new; the
 * caller's `context` (e.g. a kid) is bound as additional data so sealed values cannot be swapped.
 */
export function kekId(kek: Buffer): string {
  return sha256Base64url(kek).slice(0, 11);
}

export function seal(kek: Buffer, plaintext: string, context: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    kekId(kek),
    iv.toString('base64url'),
    ciphertext.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

export class SealedBoxError extends Error {
  override name = 'SealedBoxError';
}

/** The id of the key-encryption key that sealed a value. */
export function sealedBy(sealed: string): string | undefined {
  return sealed.split('.')[1];
}

export function open(keks: Buffer[], sealed: string, context: string): string {
  const [version, id, iv, ciphertext, tag] = sealed.split('.');
  if (version !== 'v1' || !id || !iv || ciphertext === undefined || !tag)
    throw new SealedBoxError('unrecognised sealed value');
  const kek = keks.find((candidate) => kekId(candidate) === id);
  if (!kek) {
    throw new SealedBoxError(
      'a value in the database was sealed under a key-encryption key that is not configured: check KEY_ENCRYPTION_KEY (and KEY_ENCRYPTION_KEY_PREVIOUS during a rotation)',
    );
  }
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedBoxError('a sealed value failed authentication: it was altered or sealed for another record');
  }
}
