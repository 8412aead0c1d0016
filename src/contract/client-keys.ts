import { z } from 'zod';
import {
  MAX_PUBLIC_KEY_TEXT,
  parseClientPublicKey,
  PublicKeyError,
  type ClientPublicKey,
} from '../lib/client-public-key.js';
import { optional, optionalBoolean } from './wire-fields.js';
import { refuse } from './wording.js';

/**
 * A public key as text, PEM or one JWK (several lines: not a wire-fields text), read and judged
 * here, so the CLI refuses a wrong key before it calls the admin API.
 */
export const publicKeyText = z
  .string()
  .meta({
    maxLength: MAX_PUBLIC_KEY_TEXT,
    description: 'a public key, PEM or one JWK: Ed25519, P-256 or RSA of at least 2048 bits; never a private key',
  })
  .transform((text, ctx): ClientPublicKey => {
    try {
      return parseClientPublicKey(text);
    } catch (error) {
      if (!(error instanceof PublicKeyError)) throw error;
      return refuse(ctx, (field) => `${field} ${error.message}`);
    }
  });

/** POST /clients/:id/keys: a public key the partner gives, or `hmac: true` for a secret Tollgate generates. */
export const addClientKeyBody = z
  .strictObject({
    public_key: optional(publicKeyText),
    hmac: optionalBoolean().meta({
      description: 'generate a 256-bit HMAC secret (hmac-sha256), shown once, kept sealed under the key-encryption key',
    }),
  })
  .transform((body, ctx) => {
    if (body.public_key && body.hmac)
      return refuse(ctx, (_, name) => `give ${name('public_key')} or ${name('hmac')}, not both`);
    if (body.public_key) return { publicKey: body.public_key };
    if (body.hmac) return { hmac: true as const };
    return refuse(
      ctx,
      (_, name) => `give a public key (${name('public_key')}: PEM or JWK) or ask for an HMAC secret (${name('hmac')})`,
    );
  });
export type AddClientKeyInput = z.output<typeof addClientKeyBody>;
