import type { SigningAlgorithm } from '../keys/algorithms.js';

/** An API (resource server) that tokens are issued for; `identifier` is its audience. */
export interface Api {
  id: string;
  identifier: string;
  name: string | null;
  scopes: string[];
  tokenTtl: number;
  alg: SigningAlgorithm;
  createdAt: Date;
  updatedAt: Date;
}

// The one source of an access token's lifetime: the provider, the admin API's validation, the key
// ring's retirement delay and the CLI all import these (the CLI may: this module is pure constants).
// migrations/001_initial.ts repeats 3600 in a CHECK constraint; migrations are history and stay as written.
export const DEFAULT_TOKEN_TTL = 600;
export const MAX_TOKEN_TTL = 3600;

/** Why a longer lifetime is refused, worded once for the admin API and the CLI; `field` is how the caller names it. */
export function tokenTtlLimitMessage(field: string): string {
  return `${field} may be at most ${MAX_TOKEN_TTL} seconds (access tokens are short-lived; use refresh tokens for long sessions)`;
}

/** The admin API's and CLI's JSON shape. */
export function apiToJson(api: Api) {
  return {
    id: api.id,
    identifier: api.identifier,
    name: api.name,
    scopes: api.scopes,
    token_ttl: api.tokenTtl,
    alg: api.alg,
    created_at: api.createdAt.toISOString(),
    updated_at: api.updatedAt.toISOString(),
  };
}
