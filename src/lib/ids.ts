import crypto from 'node:crypto';

/**
 * Identifiers carry their kind as a prefix, so a token's `sub` says whether it names a user or a
 * client and the two can never collide.
 */
export const ID_PREFIX = { api: 'api_', client: 'client_', user: 'user_', apiKey: 'key_', clientKey: 'ck_' } as const;

export function newId(kind: keyof typeof ID_PREFIX): string {
  return ID_PREFIX[kind] + crypto.randomBytes(16).toString('base64url');
}
