import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { affectedRows } from '../db/affected-rows.js';
import { runStatement, statement } from '../db/statements.js';

/** Where the database store keeps nonces (migration 012_signature_nonces). */
export const SIGNATURE_NONCES_TABLE = 'signature_nonces';

/** How far from Tollgate's clock a signature's `created` may be, in either direction (the contract's 300 s). */
export const SIGNATURE_WINDOW_SECONDS = 300;

/**
 * Kept beyond the last moment a signature could be accepted: the instances answering for one
 * API each read their own clock, and the database's or Redis's expiry runs on yet another; a
 * minute covers any skew between them that NTP leaves.
 */
const NONCE_SKEW_MARGIN_SECONDS = 60;

/**
 * Until when a nonce must be remembered: until a signature with its `created` can no longer be
 * accepted by any instance, plus a margin.
 *
 * The arithmetic: a signature is accepted while |now − created| ≤ 300 s, that is from created − 300
 * to created + 300. Its `created` may lie up to 300 s in the future when it is first seen, so
 * "300 s after it was seen" is not enough: seen at created − 300, a replay at created + 250 is
 * still inside the window, 550 s later. What is always enough is the window's end by the
 * signature's own clock, created + 300, whenever it is first seen: after it every instance
 * refuses that `created` before asking the store. Hence created + 300 + the skew margin — at
 * most 600 s (+ margin) after the first sighting, at least the margin.
 */
export function nonceExpiry(createdSeconds: number): number {
  return createdSeconds + SIGNATURE_WINDOW_SECONDS + NONCE_SKEW_MARGIN_SECONDS;
}

/**
 * The (keyid, nonce) pairs seen, shared by every instance: one atomic insert-if-absent, so two
 * instances given one pair at the same moment cannot both record it. Unlike a rate limit, a
 * store that fails throws: the caller answers 503 and never lets a signature through unrecorded
 * (a skipped replay check is a hole, a skipped count only a looser limit).
 */
export interface NonceStore {
  /** True when the pair was new and is now recorded until `expiresAtSeconds`; false when seen before. */
  record(keyid: string, nonce: string, expiresAtSeconds: number): Promise<boolean>;
  /** Deletes expired pairs (the database store; Redis expires its keys itself). */
  sweep(): Promise<number>;
}

/**
 * The verification path's write, as a prepared statement (no knex query building per call).
 * ON CONFLICT DO NOTHING: the row count says whether this call inserted. An expired pair not yet
 * swept still refuses: its `created` is out of the window by then anyway.
 */
const RECORD = statement(
  'signature_nonce_record',
  `INSERT INTO ${SIGNATURE_NONCES_TABLE} (keyid, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT (keyid, nonce) DO NOTHING`,
);

export function databaseNonceStore(db: Knex): NonceStore {
  return {
    async record(keyid, nonce, expiresAtSeconds) {
      const { rowCount } = await runStatement(db, RECORD, [keyid, nonce, new Date(expiresAtSeconds * 1000)]);
      return rowCount === 1;
    },
    async sweep() {
      return affectedRows(await db(SIGNATURE_NONCES_TABLE).where('expires_at', '<', new Date()).delete());
    },
  };
}

/** Keys `signature_nonce:<keyid>:<nonce>` under REDIS_KEY_PREFIX (the connection's keyPrefix); a keyid has no colon. */
export function redisNonceStore(redis: Redis): NonceStore {
  return {
    async record(keyid, nonce, expiresAtSeconds) {
      const seconds = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
      // SET NX EX: set only when absent, with its expiry, in one command ('OK', or null when present).
      const answer = await redis.set(`signature_nonce:${keyid}:${nonce}`, '1', 'EX', seconds, 'NX');
      return answer === 'OK';
    },
    async sweep() {
      return 0;
    },
  };
}
