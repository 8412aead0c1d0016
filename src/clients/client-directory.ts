import type { Knex } from 'knex';
import { FreshnessCache } from '../lib/freshness.js';
import type { Client } from './client.js';
import { clientStore } from './client-store.js';

/**
 * Clients as the token endpoint sees them: cached by id, so authenticating a client costs no
 * query on the hot path, yet an update, deletion or secret rotation reaches every instance within
 * 5 s (FreshnessCache). A disabled client is as good as absent.
 */
export class ClientDirectory {
  readonly #cache: FreshnessCache<string, Client | undefined>;

  constructor(db: Knex) {
    this.#cache = new FreshnessCache(async (id) => {
      const client = await clientStore.byId(db, id);
      return client && !client.disabled ? client : undefined;
    });
  }

  find(id: string): Promise<Client | undefined> {
    return this.#cache.get(id);
  }

  invalidate(id: string): void {
    this.#cache.invalidate(id);
  }
}
