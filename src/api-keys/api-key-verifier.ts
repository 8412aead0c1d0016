import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { scopeOwners, type ApiCatalog } from '../apis/api-catalog.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { looksLikeApiKey } from '@tollgate/resource-server/api-key-format';
import { sha256Bytes } from '../lib/sha256.js';
import { apiKeyStatusAt } from './api-key.js';
import { apiKeyStore } from './api-key-store.js';
import type { LastUsedRecorder } from './last-used.js';

/** What a valid key lets its holder do: for the APIs asked about when asked, else for every API it reaches. */
export interface VerifiedApiKey {
  keyId: string;
  clientId: string;
  /** The key's scopes its client is still allowed (of the asked APIs only, when asked). */
  scopes: string[];
  /** The APIs owning those scopes. */
  audience: string[];
  /** When it stops working at the latest: its expiry, or the end of its grace after a rotation. */
  expiresAt: Date | null;
  rateLimit: string | null;
}

function earliest(a: number | null, b: number | null): Date | null {
  const ms = a !== null && b !== null ? Math.min(a, b) : (a ?? b);
  return ms === null ? null : new Date(ms);
}

/** Compared against when no row matched, so a miss does the same constant-time comparison as a hit. */
const NO_HASH = Buffer.alloc(32);
/** Looked up when no row matched: no client id is empty (ids are `client_…`). */
const NO_CLIENT = '';

/**
 * Verifies a presented API key: shape and checksum → SHA-256 → one look-up by the unique hash →
 * constant-time comparison of the hashes → the key's state (revoked, expired, rotated out past its
 * grace) and its client's (present and enabled, through ClientDirectory: a change reaches every
 * instance within 5 s) → the scopes the client is still allowed, each an API's.
 *
 * The timing model, honestly: a string failing the shape or checksum is refused without a query,
 * so it answers faster than a well-formed key. That tells a caller only what it can compute
 * itself (the format and checksum are public: @tollgate/resource-server/api-key-format), never anything about
 * stored keys. Every well-formed key then costs the same steps — the look-up, the comparison
 * (against NO_HASH on a miss), the client and catalog reads (both cached; for a miss, of a client
 * id nobody has), every check evaluated without an early return — so unknown, revoked, expired
 * and rotated-out keys are not told apart by their answer or their path. What remains is the
 * database's: a found row is read and sent, a missing one not, microseconds on an index probe —
 * and learning that a key exists needs the key, 256 random bits. The probe is by SHA-256, so its
 * timing is about a hash, which says nothing about the key behind it.
 */
export class ApiKeyVerifier {
  constructor(
    private readonly db: Knex,
    private readonly catalog: ApiCatalog,
    private readonly directory: ClientDirectory,
    private readonly lastUsed: LastUsedRecorder,
  ) {}

  /** `audiences`: the asking API's identifiers; only scopes of these count. Undefined: every API's. */
  async verify(presented: unknown, audiences?: readonly string[]): Promise<VerifiedApiKey | undefined> {
    if (!looksLikeApiKey(presented)) return undefined;
    const hash = sha256Bytes(presented);
    const row = await apiKeyStore.checkByHash(this.db, hash.toString('base64url'));
    const stored = row ? Buffer.from(row.keyHash, 'base64url') : NO_HASH;
    const hashMatches = stored.length === hash.length && crypto.timingSafeEqual(stored, hash);

    // A miss takes the same steps as a hit: the client read (of an id no client has, cached as
    // absent like any other) and the catalog's.
    const [client, snapshot] = await Promise.all([
      this.directory.find(row?.clientId ?? NO_CLIENT),
      this.catalog.snapshot(),
    ]);
    const allowed = new Set(client?.scopes);
    const scopes = (row?.scopes ?? []).filter(
      (scope) =>
        allowed.has(scope) &&
        (audiences === undefined || audiences.includes(snapshot.byScope.get(scope)?.identifier as string)),
    );
    const { owners } = scopeOwners(snapshot, scopes);
    const status = row ? apiKeyStatusAt(row, Date.now()) : 'revoked';
    const usable = [hashMatches, status === 'active' || status === 'rotating', !!client, owners.size > 0];
    if (!row || !usable.every(Boolean)) return undefined;

    this.lastUsed.used(row.id);
    return {
      keyId: row.id,
      clientId: row.clientId,
      scopes,
      audience: [...owners.keys()],
      expiresAt: earliest(row.expiresAtMs, row.graceUntilMs),
      rateLimit: row.rateLimit,
    };
  }
}
