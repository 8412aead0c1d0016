import type { Provider } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { KnownClient } from '../clients/client-directory.js';
import { wrapClientFind } from '../oidc-provider/internals.js';

/**
 * oidc-provider turns a client's adapter metadata into its Client instance on every look-up, once
 * per token request: Tollgate builds the metadata, oidc-provider serialises it and hashes it
 * (SHA-256) to find the instance it made last time. The directory already hands out one
 * immutable record per client until the client changes, so the instance is kept per record; a
 * changed, disabled or deleted client is a new record or none, and goes through oidc-provider's
 * own look-up again.
 *
 * Returns the way back, instance to record: oidc-provider's synchronous mTLS hooks are handed
 * its instance, and decide by Tollgate's record (src/clients/certificate-authentication.ts).
 */
export function installClientInstanceCache(
  provider: Provider,
  directory: ClientDirectory,
): { recordOf(instance: unknown): KnownClient | undefined } {
  const instances = new WeakMap<KnownClient, unknown>();
  const records = new WeakMap<object, KnownClient>();
  wrapClientFind(provider, (find) => async (id: unknown) => {
    const record = typeof id === 'string' && id ? await directory.find(id) : undefined;
    if (!record) return find(id);
    let client = instances.get(record);
    if (!client) {
      client = await find(id);
      if (client) {
        instances.set(record, client);
        records.set(client, record);
      }
    }
    return client;
  });
  return {
    recordOf: (instance) => (instance && typeof instance === 'object' ? records.get(instance) : undefined),
  };
}
