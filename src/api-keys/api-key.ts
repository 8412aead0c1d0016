/** An API key as Tollgate stores it: never the key, only its hash and a recognisable prefix. */
export interface ApiKey {
  id: string;
  clientId: string;
  name: string | null;
  scopes: string[];
  keyHash: string;
  /** `tgk_` and the key's next 8 characters, for people to recognise it by. */
  prefix: string;
  /** As written by the operator, normalised (`60/min`); enforced elsewhere. */
  rateLimit: string | null;
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** The key that replaced this one at a rotation. */
  replacedBy: string | null;
  /** After a rotation: when this key stops working (at once for a rotation without grace). */
  graceUntil: Date | null;
}

export type ApiKeyStatus = 'active' | 'rotating' | 'rotated' | 'revoked' | 'expired';

/** A key's times as milliseconds since the epoch (null: not set), as the verification path reads them. */
export interface ApiKeyTimes {
  revokedAtMs: number | null;
  expiresAtMs: number | null;
  graceUntilMs: number | null;
}

/** One word for what the key does at `nowMs`, the first that applies: revoked, expired, rotated out (or in its grace). */
export function apiKeyStatusAt(key: ApiKeyTimes, nowMs: number): ApiKeyStatus {
  if (key.revokedAtMs !== null && key.revokedAtMs <= nowMs) return 'revoked';
  if (key.expiresAtMs !== null && key.expiresAtMs <= nowMs) return 'expired';
  if (key.graceUntilMs !== null) return key.graceUntilMs <= nowMs ? 'rotated' : 'rotating';
  return 'active';
}

const ms = (date: Date | null) => (date ? date.getTime() : null);

/** One word for what the key does now (apiKeyStatusAt, for a key as the admin API reads it). */
export function apiKeyStatus(key: ApiKey, now: Date = new Date()): ApiKeyStatus {
  return apiKeyStatusAt(
    { revokedAtMs: ms(key.revokedAt), expiresAtMs: ms(key.expiresAt), graceUntilMs: ms(key.graceUntil) },
    now.getTime(),
  );
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * The admin API's and CLI's JSON shape (the contract's fields first); never the key or its hash.
 * `audience`: the APIs owning the key's scopes now.
 */
export function apiKeyToJson(key: ApiKey, audience: string[]) {
  return {
    id: key.id,
    client_id: key.clientId,
    name: key.name,
    scopes: key.scopes,
    expires_at: iso(key.expiresAt),
    rate_limit: key.rateLimit,
    created_at: iso(key.createdAt),
    last_used_at: iso(key.lastUsedAt),
    prefix: key.prefix,
    audience,
    status: apiKeyStatus(key),
    revoked_at: iso(key.revokedAt),
    replaced_by: key.replacedBy,
    grace_until: iso(key.graceUntil),
  };
}
