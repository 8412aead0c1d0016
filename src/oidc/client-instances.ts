import type { Provider } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { Client as ClientRecord } from '../clients/client.js';
import { wrapClientFind } from '../oidc-provider/internals.js';

/**
 * oidc-provider turns a client's adapter metadata into its Client instance on every look-up, once
 * per token request: Tollgate builds the metadata, oidc-provider serialises it and hashes it
 * (SHA-256) to find the instance it made last time. The directory already hands out one
 * immutable record per client until the client changes, so the instance is kept per record; a
 * changed, disabled or deleted client is a new record or none, and goes through oidc-provider's
 * own look-up again.
 */
export function installClientInstanceCache(provider: Provider, directory: ClientDirectory): void {
  const instances = new WeakMap<ClientRecord, unknown>();
  wrapClientFind(provider, (find) => async (id: unknown) => {
    const record = typeof id === 'string' && id ? await directory.find(id) : undefined;
    if (!record) return find(id);
    let client = instances.get(record);
    if (!client) {
      client = await find(id);
      if (client) instances.set(record, client);
    }
    return client;
  });
}
