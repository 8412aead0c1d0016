import type { Knex } from 'knex';
import { FreshnessCache } from '../lib/freshness.js';
import type { Api } from './api.js';
import { apiStore } from './api-store.js';

export interface ApiSnapshot {
  byIdentifier: Map<string, Api>;
  byScope: Map<string, Api>;
}

/**
 * The audience rule, in one place: the API owning each scope. Client credentials (a token is for
 * one API, src/oidc/resource-policy.ts) and API keys (a key is for each API its scopes belong to,
 * src/api-keys/) both read a set of scopes' audience from here. `owners` maps each owning API's
 * identifier to it, in the order of the scopes; `unowned` lists the scopes no API defines.
 */
export function scopeOwners(
  snapshot: ApiSnapshot,
  scopes: readonly string[],
): { owners: Map<string, Api>; unowned: string[] } {
  const owners = new Map<string, Api>();
  const unowned: string[] = [];
  for (const scope of scopes) {
    const api = snapshot.byScope.get(scope);
    if (api) owners.set(api.identifier, api);
    else unowned.push(scope);
  }
  return { owners, unowned };
}

/**
 * Every registered API, held in memory for the token endpoint: an installation has few APIs, and
 * a whole snapshot answers both "which API is this resource" and "which API owns this scope"
 * without a query per token. Kept fresh by FreshnessCache's rule (changes visible within 5 s).
 */
export class ApiCatalog {
  readonly #cache: FreshnessCache<'all', ApiSnapshot>;

  constructor(db: Knex) {
    this.#cache = new FreshnessCache(async () => {
      const apis = await apiStore.all(db);
      return {
        byIdentifier: new Map(apis.map((api) => [api.identifier, api])),
        byScope: new Map(apis.flatMap((api) => api.scopes.map((scope) => [scope, api] as const))),
      };
    });
  }

  snapshot(): Promise<ApiSnapshot> {
    return this.#cache.get('all');
  }

  invalidate(): void {
    this.#cache.invalidate();
  }
}
