import type { Knex } from 'knex';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import { clientMetadata } from './client-metadata.js';
import { GrantPrefetch } from './grant-prefetch.js';
import { oidcPayloadStore, type Payload } from './payload-store.js';

/** The token endpoint looks these up and then the Grant they name (see GrantPrefetch). */
const LOOKED_UP_WITH_GRANT = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode']);

/** oidc-provider's storage for one model (AuthorizationCode, RefreshToken, Grant, Session, …). */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly db: Knex,
    private readonly kind: string,
    private readonly grants: GrantPrefetch,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.kind === 'Grant') this.grants.forget(id);
    await oidcPayloadStore.upsert(this.db, this.kind, id, payload as Payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.kind === 'Grant') {
      const parked = this.grants.take(id);
      if (parked !== GrantPrefetch.miss) return parked as AdapterPayload | undefined;
    }
    if (!LOOKED_UP_WITH_GRANT.has(this.kind)) {
      return oidcPayloadStore.find(this.db, this.kind, id) as Promise<AdapterPayload | undefined>;
    }
    const found = await oidcPayloadStore.findWithGrant(this.db, this.kind, id);
    if (found?.grantId) this.grants.park(found.grantId, found.grant);
    return found?.payload as AdapterPayload | undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return oidcPayloadStore.findBy(this.db, this.kind, 'user_code', userCode) as Promise<AdapterPayload | undefined>;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return oidcPayloadStore.findBy(this.db, this.kind, 'uid', uid) as Promise<AdapterPayload | undefined>;
  }

  /**
   * oidc-provider reads an artefact, checks `consumed`, then calls consume(): two concurrent
   * presentations can both pass the check. The conditional UPDATE decides; the loser revokes
   * the whole grant — what the winner is issuing included — and gets invalid_grant, as a replay
   * would (RFC 6749 §4.1.2, RFC 9700 §4.14).
   */
  async consume(id: string): Promise<void> {
    if (await oidcPayloadStore.consume(this.db, this.kind, id)) return;
    const grantId = await oidcPayloadStore.grantIdOf(this.db, this.kind, id);
    if (grantId) {
      this.grants.forget(grantId);
      await oidcPayloadStore.revokeGrant(this.db, grantId);
    }
    throw new errors.InvalidGrant(`${this.kind === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
  }

  async destroy(id: string): Promise<void> {
    if (this.kind === 'Grant') this.grants.forget(id);
    await oidcPayloadStore.destroy(this.db, this.kind, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.grants.forget(grantId);
    await oidcPayloadStore.revokeByGrantId(this.db, this.kind, grantId);
  }
}

/** Clients come from Tollgate's own clients table, through the cached directory. */
class ClientAdapter implements Adapter {
  constructor(private readonly directory: ClientDirectory) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.directory.find(id);
    return client ? clientMetadata(client) as AdapterPayload : undefined;
  }

  // Clients are managed through the admin API only; dynamic registration is off.
  async upsert(): Promise<void> { throw new Error('clients are managed through the admin API'); }
  async findByUserCode(): Promise<undefined> { return undefined; }
  async findByUid(): Promise<undefined> { return undefined; }
  async consume(): Promise<void> { throw new Error('clients cannot be consumed'); }
  async destroy(): Promise<void> { throw new Error('clients are managed through the admin API'); }
  async revokeByGrantId(): Promise<void> { /* clients hold no grants */ }
}

export function adapterFactory(db: Knex, directory: ClientDirectory): (name: string) => Adapter {
  const clientAdapter = new ClientAdapter(directory);
  const grants = new GrantPrefetch();
  const adapters = new Map<string, Adapter>();
  return (name: string) => {
    if (name === 'Client') return clientAdapter;
    let adapter = adapters.get(name);
    if (!adapter) {
      adapter = new PayloadAdapter(db, name, grants);
      adapters.set(name, adapter);
    }
    return adapter;
  };
}
