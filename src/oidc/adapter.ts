import type { Knex } from 'knex';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import { clientMetadata } from './client-metadata.js';
import { isIssuedId, storedId, type UserCodeDigest } from '../artefacts/artefact-ids.js';
import { GrantPrefetch } from './grant-prefetch.js';
import { ASSERTION_REPLAYED } from '../oidc-provider/internals.js';
import {
  ID_SEALED_BY_USER_CODE,
  oidcPayloadStore,
  type Payload,
  type StoredArtefact,
} from '../artefacts/payload-store.js';
import type { RefreshRotation } from './refresh-rotation.js';
import { fromStoredPayload, toStoredPayload } from '../artefacts/stored-payload.js';

/** The token endpoint looks these up and then the Grant they name (see GrantPrefetch). */
const LOOKED_UP_WITH_GRANT = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode']);

/** What the adapters remember within one request, to save round trips and defer rotations. */
interface RequestMemory {
  grants: GrantPrefetch;
  rotation: RefreshRotation;
}

export interface AdapterOptions {
  /** Shared with the token endpoint's commitOnSuccess() middleware. */
  rotations: RefreshRotation;
  userCodes: UserCodeDigest;
}

/**
 * oidc-provider's storage for one model (AuthorizationCode, RefreshToken, Grant, Session, …).
 * It is given and asked for ids as clients hold them; the database sees only their digests and
 * payloads without the secrets (artefact-ids.ts, stored-payload.ts). An id Tollgate cannot have
 * issued is not found, without a query.
 */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly db: Knex,
    private readonly kind: string,
    private readonly memory: RequestMemory,
    private readonly userCodes: UserCodeDigest,
  ) {}

  #stored(id: string, payload: AdapterPayload, expiresIn: number): StoredArtefact {
    const { kind } = this;
    const stored = toStoredPayload(kind, payload as Payload, id);
    const userCode = this.userCodes.of(payload.userCode);
    if (userCode !== undefined) stored[ID_SEALED_BY_USER_CODE] = this.userCodes.sealId(payload.userCode as string, id);
    return { kind, id: storedId(kind, id), payload: stored, userCode, expiresIn };
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.kind === 'ReplayDetection') {
      // oidc-provider looks a client assertion's (iss, jti) up, then saves it (replay_detection.js):
      // two presentations side by side, on one instance or two, could both find nothing. Only
      // the one whose insert lands is new; the other is refused as a replay.
      if (!(await oidcPayloadStore.insertNew(this.db, this.#stored(id, payload, expiresIn))))
        throw new errors.InvalidClientAuth(ASSERTION_REPLAYED);
      return;
    }
    if (this.kind === 'Grant') this.memory.grants.forget(id);
    const presented = this.kind === 'RefreshToken' ? this.memory.rotation.takePresented() : undefined;
    if (presented !== undefined && presented !== id) {
      const presentedId = storedId(this.kind, presented);
      const successor = this.#stored(id, payload, expiresIn);
      const rotation = {
        commit: async () => {
          if (await oidcPayloadStore.rotate(this.db, presentedId, successor)) return true;
          await this.#revokeFamilyOf(presentedId);
          return false;
        },
      };
      // Written when the token response is known to be a success (RefreshRotation).
      if (!this.memory.rotation.park(rotation) && !(await rotation.commit())) this.#refuseReuse();
      return;
    }
    // Not a successor (the presented token itself saved again): consume first, then write as usual.
    if (presented !== undefined) await this.#consumeNow(presented);
    await oidcPayloadStore.upsert(this.db, this.#stored(id, payload, expiresIn));
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!isIssuedId(id)) return undefined;
    const { kind } = this;
    if (kind === 'Grant') {
      const parked = this.memory.grants.take(id);
      if (parked) return parked.grant as AdapterPayload | undefined;
    }
    if (!LOOKED_UP_WITH_GRANT.has(kind)) {
      return fromStoredPayload(kind, await oidcPayloadStore.find(this.db, kind, storedId(kind, id)), id) as
        AdapterPayload | undefined;
    }
    const found = await oidcPayloadStore.findWithGrant(this.db, kind, storedId(kind, id));
    if (found?.grantId) this.memory.grants.park(found.grantId, found.grant);
    return fromStoredPayload(kind, found?.payload, id) as AdapterPayload | undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const digest = this.userCodes.of(userCode);
    if (digest === undefined) return undefined;
    const found = await oidcPayloadStore.findBy(this.db, this.kind, 'user_code', digest);
    if (!found) return undefined;
    // oidc-provider saves the code again under its `jti`: its own id, sealed under the user code.
    const id = this.userCodes.openId(userCode, found[ID_SEALED_BY_USER_CODE]);
    delete found[ID_SEALED_BY_USER_CODE];
    return fromStoredPayload(this.kind, found, id, userCode) as AdapterPayload | undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    // A session's uid never leaves the server (tokens name their session by it; `sid` in ID
    // tokens is another value): it is stored as it is. The session's id (its cookie) is not
    // known here; oidc-provider only reads a session found this way.
    if (!isIssuedId(uid)) return undefined;
    return fromStoredPayload(this.kind, await oidcPayloadStore.findBy(this.db, this.kind, 'uid', uid), undefined) as
      AdapterPayload | undefined;
  }

  /**
   * oidc-provider reads an artefact, checks `consumed`, then calls consume(): two concurrent
   * presentations can both pass the check. The conditional UPDATE decides (for a refresh token,
   * together with the insert of its successor: RefreshRotation); the loser revokes the whole
   * grant — what the winner is issuing included — and gets invalid_grant, as a replay would
   * (RFC 6749 §4.1.2, RFC 9700 §4.14).
   */
  async consume(id: string): Promise<void> {
    if (!isIssuedId(id)) return;
    if (this.kind === 'RefreshToken' && this.memory.rotation.defer(id)) return;
    await this.#consumeNow(id);
  }

  async #consumeNow(id: string): Promise<void> {
    const stored = storedId(this.kind, id);
    if (await oidcPayloadStore.consume(this.db, this.kind, stored)) return;
    await this.#revokeFamilyOf(stored);
    this.#refuseReuse();
  }

  async #revokeFamilyOf(stored: string): Promise<void> {
    const grantId = await oidcPayloadStore.grantIdOf(this.db, this.kind, stored);
    if (grantId) {
      this.memory.grants.forget(grantId);
      await oidcPayloadStore.revokeGrant(this.db, grantId);
    }
  }

  #refuseReuse(): never {
    throw new errors.InvalidGrant(`${this.kind === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
  }

  async destroy(id: string): Promise<void> {
    if (!isIssuedId(id)) return;
    if (this.kind === 'Grant') this.memory.grants.forget(id);
    await oidcPayloadStore.destroy(this.db, this.kind, storedId(this.kind, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    if (!isIssuedId(grantId)) return;
    this.memory.grants.forget(grantId);
    await oidcPayloadStore.revokeByGrantId(this.db, this.kind, grantId);
  }
}

/** Clients come from Tollgate's own clients table, through the cached directory. */
class ClientAdapter implements Adapter {
  constructor(private readonly directory: ClientDirectory) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.directory.find(id);
    return client ? (clientMetadata(client) as AdapterPayload) : undefined;
  }

  // Clients are managed through the admin API only; dynamic registration is off.
  async upsert(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {
    throw new Error('clients cannot be consumed');
  }
  async destroy(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }
  async revokeByGrantId(): Promise<void> {
    /* clients hold no grants */
  }
}

export function adapterFactory(
  db: Knex,
  directory: ClientDirectory,
  options: AdapterOptions,
): (name: string) => Adapter {
  const clientAdapter = new ClientAdapter(directory);
  const memory: RequestMemory = { grants: new GrantPrefetch(), rotation: options.rotations };
  const adapters = new Map<string, Adapter>();
  return (name: string) => {
    if (name === 'Client') return clientAdapter;
    let adapter = adapters.get(name);
    if (!adapter) {
      adapter = new PayloadAdapter(db, name, memory, options.userCodes);
      adapters.set(name, adapter);
    }
    return adapter;
  };
}
