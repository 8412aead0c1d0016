import type { Knex } from 'knex';
import { apiStore } from '../apis/api-store.js';
import { isReservedScope } from '../lib/scope-names.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { oidcPayloadStore } from '../artefacts/payload-store.js';
import type { Client } from './client.js';
import type { ClientDirectory } from './client-directory.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { clientStore, type ClientChanges as StoredClientChanges } from './client-store.js';
import { DEVICE_CODE_GRANT } from '../lib/grant-types.js';
import { validateRedirectUri } from './redirect-uris.js';
import type { ClientPublicKey } from '../lib/client-public-key.js';
import { publicKeyRow } from './client-key-service.js';
import { clientKeyStore } from './client-key-store.js';
import type { ClientKey } from './client-key.js';

type ClientShape = Pick<Client, 'isPublic' | 'grantTypes' | 'redirectUris' | 'postLogoutRedirectUris' | 'scopes'>;

/**
 * A client to register, each field already well-formed (the admin contract parses it at the edge);
 * `publicKey`, the first key of a private_key_jwt client.
 */
export type NewClient = ClientShape &
  Pick<Client, 'name' | 'firstParty' | 'rateLimit' | 'authMethod'> & { publicKey?: ClientPublicKey | undefined };

/**
 * What an update changes; undefined leaves a field as it is (a null rateLimit removes the limit).
 * The columns the store can change, but the secret: that changes only by rotation (rotateSecret).
 */
export type ClientChanges = Omit<StoredClientChanges, 'secretHash'>;

export interface CreatedClient {
  client: Client;
  /** Shown once, never stored: only its hash is kept. Undefined for public and private_key_jwt clients. */
  secret: string | undefined;
  /** The public key given at creation (private_key_jwt), as registered. */
  firstKey?: ClientKey | undefined;
}

/** The rules for registering clients; SQL stays in clientStore. */
export class ClientService {
  constructor(
    private readonly db: Knex,
    private readonly directory: ClientDirectory,
  ) {}

  list(): Promise<Client[]> {
    return clientStore.all(this.db);
  }

  async show(id: string): Promise<Client> {
    const client = await clientStore.byId(this.db, id);
    if (!client) throw new NotFoundError(`no client with id "${id}"`);
    return client;
  }

  /** The rules here are those that combine fields or need the database. */
  async create(input: NewClient): Promise<CreatedClient> {
    const { name, firstParty, rateLimit, authMethod, publicKey, ...shape } = input;
    await this.#validate(shape);
    if (authMethod === 'private_key_jwt' && !publicKey) {
      throw new ValidationError(
        'a private_key_jwt client needs its first public key (--public-key FILE): it has no secret to authenticate with',
      );
    }
    if (publicKey && authMethod !== 'private_key_jwt') {
      throw new ValidationError(
        'a public key at creation is for --auth-method private_key_jwt; add keys to other clients with clients add-key',
      );
    }
    // private_key_jwt: no secret at all, not even an unused one (RFC 7523 §2.2 needs none).
    const secret = authMethod === 'client_secret_basic' ? generateClientSecret() : undefined;
    const client = {
      id: newId('client'),
      name,
      secretHash: secret ? hashClientSecret(secret) : null,
      firstParty,
      rateLimit,
      authMethod,
      ...shape,
    };
    const keyRow = publicKey ? publicKeyRow(client.id, publicKey) : undefined;
    await this.db.transaction(async (trx) => {
      await clientStore.insert(trx, client);
      if (keyRow) await clientKeyStore.insert(trx, keyRow);
    });
    const firstKey = keyRow ? (await clientKeyStore.ofClient(this.db, client.id))[0] : undefined;
    return { client: await this.show(client.id), secret, firstKey };
  }

  async update(id: string, changes: ClientChanges): Promise<Client> {
    const existing = await this.show(id);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    await this.#validate({ ...existing, ...defined });
    await clientStore.update(this.db, id, defined);
    this.directory.invalidate(id);
    return this.show(id);
  }

  async rotateSecret(id: string): Promise<CreatedClient> {
    const existing = await this.show(id);
    if (existing.isPublic) throw new ValidationError('a public client has no secret to rotate');
    if (existing.authMethod === 'private_key_jwt') {
      throw new ValidationError(
        'a private_key_jwt client has no secret to rotate: rotate its keys (clients add-key, then remove-key)',
      );
    }
    const secret = generateClientSecret();
    await clientStore.update(this.db, id, { secretHash: hashClientSecret(secret) });
    this.directory.invalidate(id);
    return { client: await this.show(id), secret };
  }

  /** Deleting a client revokes everything issued to it: grants, codes and refresh tokens. */
  async delete(id: string): Promise<Client> {
    const client = await this.show(id);
    await this.db.transaction(async (trx) => {
      await oidcPayloadStore.deleteByClient(trx, id);
      await clientStore.delete(trx, id);
    });
    this.directory.invalidate(id);
    return client;
  }

  async #validate(client: ClientShape): Promise<void> {
    const has = (grantType: string) => client.grantTypes.includes(grantType);
    if (client.isPublic && has('client_credentials')) {
      throw new ValidationError('a public client cannot use client_credentials: it has no secret to authenticate with');
    }
    if (has('refresh_token') && !has('authorization_code') && !has(DEVICE_CODE_GRANT)) {
      throw new ValidationError('refresh_token needs a grant that signs a user in (authorization_code or device_code)');
    }
    if (has('authorization_code') && !client.redirectUris.length) {
      throw new ValidationError('authorization_code clients need at least one redirect URI (--redirect-uris)');
    }
    if (!has('authorization_code') && client.redirectUris.length) {
      throw new ValidationError('redirect URIs only apply to authorization_code clients');
    }
    client.redirectUris.forEach((uri) => validateRedirectUri(uri, 'redirect_uris', client.isPublic));
    client.postLogoutRedirectUris.forEach((uri) =>
      validateRedirectUri(uri, 'post_logout_redirect_uris', client.isPublic),
    );
    const apiScopes = client.scopes.filter((scope) => !isReservedScope(scope));
    const owned = new Set((await apiStore.scopeOwners(this.db, apiScopes)).map((owner) => owner.scope));
    const unknown = apiScopes.filter((scope) => !owned.has(scope));
    if (unknown.length) {
      throw new ValidationError(
        `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}: register ${unknown.length > 1 ? 'them' : 'it'} on an API first (tollgate apis create|update --scopes …)`,
      );
    }
  }
}
