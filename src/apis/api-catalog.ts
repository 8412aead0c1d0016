import type { Knex } from 'knex';
import { FreshnessCache } from '../lib/freshness.js';
import type { Api } from './api.js';
import { apiStore } from './api-store.js';

export interface ApiSnapshot {
  byIdentifier: Map<string, Api>;
  byScope: Map<string, Api>;
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
