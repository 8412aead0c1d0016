import type { SigningAlgorithm } from '../lib/signing-algorithms.js';

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
