import type { Knex } from 'knex';
import { FreshnessCache } from '../lib/freshness.js';
import type { Client } from './client.js';
import type { ClientJwk } from './client-key.js';
import { clientKeyStore } from './client-key-store.js';
import { clientStore } from './client-store.js';

/** Whether a client authenticates with the public keys it registered (an assertion, or a certificate's key). */
export function usesPublicKeys(client: Pick<Client, 'authMethod'>): boolean {
  return client.authMethod === 'private_key_jwt' || client.authMethod === 'self_signed_tls_client_auth';
}

/** A client as the token endpoint sees it: with the public keys a private_key_jwt client authenticates with. */
export type KnownClient = Client & {
  /** Its registered public keys (kid: their keyid); empty for a client that does not authenticate with them. */
  readonly jwks: readonly ClientJwk[];
};

/**
 * Clients as the token endpoint sees them: cached by id, so authenticating a client costs no
 * query on the hot path, yet an update, deletion, secret rotation or key added or removed reaches
 * every instance within 5 s (FreshnessCache). A disabled client is as good as absent. Only the
 * keys of a client that authenticates with them (private_key_jwt, self_signed_tls_client_auth)
 * are read (a second query, once per refresh).
 */
export class ClientDirectory {
  readonly #cache: FreshnessCache<string, KnownClient | undefined>;

  constructor(db: Knex) {
    this.#cache = new FreshnessCache(async (id) => {
      const client = await clientStore.byId(db, id);
      if (!client || client.disabled) return undefined;
      const jwks = usesPublicKeys(client) ? await clientKeyStore.publicJwks(db, id) : [];
      return { ...client, jwks };
    });
  }

  find(id: string): Promise<KnownClient | undefined> {
    return this.#cache.get(id);
  }

  /** The client as find() would resolve it at once, or undefined when find() would have to wait for the database. */
  peek(id: string): { client: KnownClient | undefined } | undefined {
    const held = this.#cache.peek(id);
    return held && { client: held.value };
  }

  invalidate(id: string): void {
    this.#cache.invalidate(id);
  }
}
