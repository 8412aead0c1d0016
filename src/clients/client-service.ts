import type { Knex } from 'knex';
import { apiStore } from '../apis/api-store.js';
import { isReservedScope } from '../lib/scope-names.js';
import { NotFoundError, ValidationError, isUniqueViolation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { oidcPayloadStore } from '../artefacts/payload-store.js';
import type { Client } from './client.js';
import type { ClientDirectory } from './client-directory.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { clientStore, type ClientChanges as StoredClientChanges } from './client-store.js';
import { DEVICE_CODE_GRANT } from '../lib/grant-types.js';
import { validateRedirectUri } from './redirect-uris.js';
import type { ClientPublicKey } from '../lib/client-public-key.js';
import { duplicateKeyError, publicKeyRow } from './client-key-service.js';
import { clientKeyStore } from './client-key-store.js';
import type { ClientKey } from './client-key.js';
import { usesPublicKeys } from './client-directory.js';

type ClientShape = Pick<Client, 'isPublic' | 'grantTypes' | 'redirectUris' | 'postLogoutRedirectUris' | 'scopes'>;

/**
 * A client to register, each field already well-formed (the admin contract parses it at the edge);
 * `publicKey`, the first key of a private_key_jwt client.
 */
export type NewClient = ClientShape &
  Pick<
    Client,
    'name' | 'firstParty' | 'rateLimit' | 'authMethod' | 'tlsSubjectDn' | 'tlsSanDns' | 'certificateBound'
  > & {
    publicKey?: ClientPublicKey | undefined;
  };

/**
 * What an update changes; undefined leaves a field as it is (a null rateLimit removes the limit).
 * The columns the store can change, but the secret: that is issued by a switch to
 * client_secret_basic or a rotation (rotateSecret), and ends with a switch away from it. A
 * subject (tlsSubjectDn or tlsSanDns) given replaces the other; `publicKey` is registered along
 * with a switch to a method that needs one.
 */
export type ClientChanges = Omit<StoredClientChanges, 'secretHash'> & { publicKey?: ClientPublicKey | undefined };

export interface UpdatedClient {
  client: Client;
  /** A switch to client_secret_basic: its new secret, shown once. */
  secret: string | undefined;
  /** The key registered with the update, if one was given. */
  addedKey: ClientKey | undefined;
}

export interface CreatedClient {
  client: Client;
  /** Shown once, never stored: only its hash is kept. Undefined for public and private_key_jwt clients. */
  secret: string | undefined;
  /** The public key given at creation (private_key_jwt), as registered. */
  firstKey?: ClientKey | undefined;
}

/** tls_client_auth needs exactly one subject to compare certificates with; no other method has one. */
function checkSubject(method: Client['authMethod'], subjectDn: string | null, sanDns: string | null): void {
  if (method === 'tls_client_auth') {
    if ((subjectDn === null) === (sanDns === null))
      throw new ValidationError(
        'a tls_client_auth client needs the subject its certificate carries: --tls-subject "CN=…,O=…" or --tls-san-dns NAME (one of them)',
      );
  } else if (subjectDn !== null || sanDns !== null) {
    throw new ValidationError('--tls-subject and --tls-san-dns are for --auth-method tls_client_auth');
  }
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
    const { name, firstParty, rateLimit, authMethod, publicKey, tlsSubjectDn, tlsSanDns, certificateBound, ...shape } =
      input;
    await this.#validate(shape);
    if (usesPublicKeys({ authMethod }) && !publicKey) {
      throw new ValidationError(
        `a ${authMethod} client needs its first public key (--public-key FILE): it has no secret to authenticate with`,
      );
    }
    if (publicKey && !usesPublicKeys({ authMethod })) {
      throw new ValidationError(
        'a public key at creation is for --auth-method private_key_jwt or self_signed_tls_client_auth; add keys to other clients with clients add-key',
      );
    }
    checkSubject(authMethod, tlsSubjectDn, tlsSanDns);
    // Only client_secret_basic has a secret: no unused one for the others (RFC 7523 §2.2 and
    // RFC 8705 §2 need none).
    const secret = authMethod === 'client_secret_basic' ? generateClientSecret() : undefined;
    const client = {
      id: newId('client'),
      name,
      secretHash: secret ? hashClientSecret(secret) : null,
      firstParty,
      rateLimit,
      authMethod,
      tlsSubjectDn,
      tlsSanDns,
      certificateBound,
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

  /**
   * Changes a client. A switch of method takes effect at once (the directory is told; the other
   * instances within its 5 s): away from client_secret_basic the secret is deleted, so it stops
   * working; to it, a new secret is issued and returned once, as by rotateSecret. A public client
   * has no method to switch (it has no credentials), and a confidential one does not become public.
   */
  async update(id: string, changes: ClientChanges): Promise<UpdatedClient> {
    const existing = await this.show(id);
    const { publicKey, ...rest } = changes;
    const defined = Object.fromEntries(
      Object.entries(rest).filter(([, value]) => value !== undefined),
    ) as StoredClientChanges;
    await this.#validate({ ...existing, ...defined });
    const method = defined.authMethod ?? existing.authMethod;
    if (defined.authMethod !== undefined && existing.isPublic)
      throw new ValidationError(
        'a public client has no credentials and no method to switch: register a confidential client instead',
      );
    // A subject given replaces the one stored; a switch away from tls_client_auth drops it.
    const subjectGiven = defined.tlsSubjectDn !== undefined || defined.tlsSanDns !== undefined;
    if (subjectGiven && method !== 'tls_client_auth')
      throw new ValidationError('--tls-subject and --tls-san-dns are for tls_client_auth clients');
    const subject =
      method !== 'tls_client_auth'
        ? { tlsSubjectDn: null, tlsSanDns: null }
        : subjectGiven
          ? { tlsSubjectDn: defined.tlsSubjectDn ?? null, tlsSanDns: defined.tlsSanDns ?? null }
          : { tlsSubjectDn: existing.tlsSubjectDn, tlsSanDns: existing.tlsSanDns };
    checkSubject(method, subject.tlsSubjectDn, subject.tlsSanDns);
    if (publicKey && !usesPublicKeys({ authMethod: method }))
      throw new ValidationError(
        '--public-key with an update is for a switch to private_key_jwt or self_signed_tls_client_auth; add keys to other clients with clients add-key',
      );
    const switched = method !== existing.authMethod;
    const secret = switched && method === 'client_secret_basic' ? generateClientSecret() : undefined;
    const secretChange =
      secret !== undefined
        ? { secretHash: hashClientSecret(secret) }
        : switched && existing.authMethod === 'client_secret_basic'
          ? { secretHash: null }
          : {};
    const keyRow = publicKey ? publicKeyRow(id, publicKey) : undefined;
    await this.db.transaction(async (trx) => {
      // Locked, as ClientKeyService.remove locks it: a key removed meanwhile cannot leave a
      // key-based client without any.
      await trx('clients').select('id').where({ id }).forUpdate().first();
      if (keyRow) {
        try {
          await clientKeyStore.insert(trx, keyRow);
        } catch (error) {
          if (isUniqueViolation(error)) throw duplicateKeyError();
          throw error;
        }
      }
      if (switched && usesPublicKeys({ authMethod: method })) {
        const keys = await clientKeyStore.ofClient(trx, id);
        if (!keys.some((key) => key.publicJwk !== null))
          throw new ValidationError(
            `a ${method} client authenticates with a public key it registered: give one (--public-key FILE), or add one first (clients add-key)`,
          );
      }
      await clientStore.update(trx, id, { ...defined, ...subject, ...secretChange });
    });
    this.directory.invalidate(id);
    const addedKey = keyRow
      ? (await clientKeyStore.ofClient(this.db, id)).find((key) => key.keyid === keyRow.keyid)
      : undefined;
    return { client: await this.show(id), secret, addedKey };
  }

  async rotateSecret(id: string): Promise<CreatedClient> {
    const existing = await this.show(id);
    if (existing.isPublic) throw new ValidationError('a public client has no secret to rotate');
    if (existing.authMethod !== 'client_secret_basic') {
      throw new ValidationError(
        `a ${existing.authMethod} client has no secret to rotate: ${usesPublicKeys(existing) ? 'rotate its keys (clients add-key, then remove-key)' : 'it authenticates with a certificate from TLS_CLIENT_CA'}`,
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
