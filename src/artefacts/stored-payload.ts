import crypto from 'node:crypto';
import { open, seal, SealedBoxError } from '../keys/sealed-box.js';
import type { Payload } from './payload-store.js';

/**
 * oidc-provider's payloads repeat secrets besides the id the row is keyed by: every payload
 * carries its own id as `jti`, a device code its `userCode`, and an interaction the device code
 * (`deviceCode`), the PAR request id (`parJti`), the session cookie's value (`session.cookie`) and
 * its own id inside `returnTo`. None of these is written as it is (see artefact-ids.ts):
 *
 * - `jti` and `userCode` are left out and put back on reading from the value the caller
 *   presented: the adapter is only ever asked for an artefact by that very value.
 * - An interaction's references to other secrets are needed back as they were (to resume a device
 *   flow or a pushed request), so they are sealed (AES-256-GCM) under a key derived from the
 *   interaction's own id (HKDF, RFC 5869): only whoever presents the interaction cookie can open
 *   them, and the database holds just the id's digest, from which the key cannot be derived.
 */

/** Interaction members that hold, or contain, another artefact's secret. */
const INTERACTION_SEALED = ['returnTo', 'deviceCode', 'parJti', 'session'] as const;
const SEALED_MEMBER = 'sealed';

function interactionKey(id: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', id, '', 'tollgate interaction payload v1', 32));
}

/** The payload as stored: without its own id, user code or the secrets it refers to. */
export function toStoredPayload(kind: string, payload: Payload, id: string): Payload {
  if (kind === 'Grant') return payload;
  const { jti: _jti, userCode: _userCode, ...stored } = payload;
  if (kind !== 'Interaction') return stored;
  const hidden: Record<string, unknown> = {};
  for (const member of INTERACTION_SEALED) {
    if (stored[member] === undefined) continue;
    hidden[member] = stored[member];
    delete stored[member];
  }
  stored[SEALED_MEMBER] = seal(interactionKey(id), JSON.stringify(hidden), 'Interaction');
  return stored;
}

/** The payload oidc-provider wrote, from the stored one and the id (and user code) it was found by. */
export function fromStoredPayload(
  kind: string,
  stored: Payload | undefined,
  id: string | undefined,
  userCode?: string,
): Payload | undefined {
  if (!stored || kind === 'Grant') return stored;
  if (id !== undefined) stored.jti = id;
  if (userCode !== undefined) stored.userCode = userCode;
  if (kind === 'Interaction' && typeof stored[SEALED_MEMBER] === 'string' && id !== undefined) {
    const sealed = stored[SEALED_MEMBER];
    delete stored[SEALED_MEMBER];
    try {
      Object.assign(stored, JSON.parse(open([interactionKey(id)], sealed, 'Interaction')) as Payload);
    } catch (error) {
      // Altered in the database: as good as not there.
      if (error instanceof SealedBoxError) return undefined;
      throw error;
    }
  }
  return stored;
}
