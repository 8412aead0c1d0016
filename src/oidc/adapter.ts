import type { Knex } from 'knex';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import { clientMetadata } from './client-metadata.js';
import { GrantPrefetch } from './grant-prefetch.js';
import { oidcPayloadStore, type Payload } from './payload-store.js';
import { RefreshRotation } from './refresh-rotation.js';

/** The token endpoint looks these up and then the Grant they name (see GrantPrefetch). */
const LOOKED_UP_WITH_GRANT = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode']);

/** What the adapters remember within one request, to save round trips. */
interface RequestMemory {
  grants: GrantPrefetch;
  rotation: RefreshRotation;
}

/** oidc-provider's storage for one model (AuthorizationCode, RefreshToken, Grant, Session, …). */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly db: Knex,
    private readonly kind: string,
    private readonly memory: RequestMemory,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.kind === 'Grant') this.memory.grants.forget(id);
    const presented = this.kind === 'RefreshToken' ? this.memory.rotation.takePresented() : undefined;
    if (presented !== undefined && presented !== id) {
      if (!await oidcPayloadStore.rotate(this.db, this.kind, presented, id, payload as Payload, expiresIn)) await this.#refuseReuse(presented);
      return;
    }
    // Not a successor (the presented token itself saved again): consume first, then write as usual.
    if (presented !== undefined) await this.#consumeNow(presented);
    await oidcPayloadStore.upsert(this.db, this.kind, id, payload as Payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.kind === 'Grant') {
      const parked = this.memory.grants.take(id);
      if (parked) return parked.grant as AdapterPayload | undefined;
    }
    if (!LOOKED_UP_WITH_GRANT.has(this.kind)) {
      return oidcPayloadStore.find(this.db, this.kind, id) as Promise<AdapterPayload | undefined>;
    }
    const found = await oidcPayloadStore.findWithGrant(this.db, this.kind, id);
    if (found?.grantId) this.memory.grants.park(found.grantId, found.grant);
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
   * presentations can both pass the check. The conditional UPDATE decides (for a refresh token,
   * together with the insert of its successor: RefreshRotation); the loser revokes the whole
   * grant — what the winner is issuing included — and gets invalid_grant, as a replay would
   * (RFC 6749 §4.1.2, RFC 9700 §4.14).
   */
  async consume(id: string): Promise<void> {
    if (this.kind === 'RefreshToken' && this.memory.rotation.defer(id)) return;
    await this.#consumeNow(id);
  }

  async #consumeNow(id: string): Promise<void> {
    if (!await oidcPayloadStore.consume(this.db, this.kind, id)) await this.#refuseReuse(id);
  }

  async #refuseReuse(id: string): Promise<never> {
    const grantId = await oidcPayloadStore.grantIdOf(this.db, this.kind, id);
    if (grantId) {
      this.memory.grants.forget(grantId);
      await oidcPayloadStore.revokeGrant(this.db, grantId);
    }
    throw new errors.InvalidGrant(`${this.kind === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
  }

  async destroy(id: string): Promise<void> {
    if (this.kind === 'Grant') this.memory.grants.forget(id);
    await oidcPayloadStore.destroy(this.db, this.kind, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.memory.grants.forget(grantId);
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
  const memory: RequestMemory = { grants: new GrantPrefetch(), rotation: new RefreshRotation() };
  const adapters = new Map<string, Adapter>();
  return (name: string) => {
    if (name === 'Client') return clientAdapter;
    let adapter = adapters.get(name);
    if (!adapter) {
      adapter = new PayloadAdapter(db, name, memory);
      adapters.set(name, adapter);
    }
    return adapter;
  };
}
