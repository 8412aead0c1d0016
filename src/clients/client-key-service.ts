import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { kekId, seal, sealedBy } from '../keys/sealed-box.js';
import type { SealedRecords } from '../keys/sealed-records.js';
import { HMAC_ALGORITHM, type ClientPublicKey } from '../lib/client-public-key.js';
import { ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { Client } from './client.js';
import { usesPublicKeys, type ClientDirectory } from './client-directory.js';
import type { ClientKey } from './client-key.js';
import { clientKeyStore, type NewClientKey } from './client-key-store.js';
import { clientStore } from './client-store.js';

/** A key to add: a public key the partner gave, or an HMAC secret for Tollgate to generate. */
export type NewKey = { publicKey: ClientPublicKey } | { hmac: true };

export interface AddedKey {
  key: ClientKey;
  /** The HMAC secret, shown once; undefined for a public key. */
  secret: string | undefined;
}

/**
 * HMAC secrets are 256 random bits; `tgh_` lets secret scanners recognise one. The HMAC key a
 * partner signs with is the secret exactly as shown (its ASCII bytes).
 */
const HMAC_SECRET_PREFIX = 'tgh_';

/** The additional data a secret is sealed with: a sealed value copied to another key's row does not open. */
const sealingContext = (keyid: string) => `client_key ${keyid}`;
/** How the log names a key whose secret does not open. */
const sealedRecord = (keyid: string) => ({ kind: 'client_key', id: keyid });

/**
 * The public key of a new client (`clients create --public-key`), inserted in the client's own
 * transaction by ClientService.
 */
export function publicKeyRow(clientId: string, publicKey: ClientPublicKey): NewClientKey {
  return {
    keyid: newId('clientKey'),
    clientId,
    alg: publicKey.alg,
    publicJwk: publicKey.jwk,
    thumbprint: publicKey.thumbprint,
    secretSealed: null,
  };
}

/** A second registration of one public key on one client: the unique index's words. */
export function duplicateKeyError(): ConflictError {
  return new ConflictError('this public key is already registered for the client (same RFC 7638 thumbprint)');
}

/**
 * A client's keys (`clients add-key|list-keys|remove-key`). HMAC secrets are sealed under the
 * key-encryption key (the first of `keks`; the others only open what older keys sealed), since
 * Tollgate must read one back to verify a signature, and a hash could not.
 */
export class ClientKeyService {
  constructor(
    private readonly db: Knex,
    private readonly directory: ClientDirectory,
    private readonly keks: Buffer[],
    /** Opens secrets by the rule for sealed values read back (a secret that does not open: an unusable key). */
    private readonly sealed: SealedRecords,
  ) {}

  async list(clientId: string): Promise<ClientKey[]> {
    await this.#client(clientId);
    return clientKeyStore.ofClient(this.db, clientId);
  }

  async add(clientId: string, input: NewKey): Promise<AddedKey> {
    const client = await this.#client(clientId);
    if (client.isPublic) {
      throw new ValidationError(
        'a public client cannot hold keys: it runs where no secret or private key can be kept (--public)',
      );
    }
    let row: NewClientKey;
    let secret: string | undefined;
    if ('publicKey' in input) {
      row = publicKeyRow(clientId, input.publicKey);
    } else {
      const keyid = newId('clientKey');
      secret = HMAC_SECRET_PREFIX + crypto.randomBytes(32).toString('base64url');
      row = {
        keyid,
        clientId,
        alg: HMAC_ALGORITHM,
        publicJwk: null,
        thumbprint: null,
        secretSealed: seal(this.#kek(), secret, sealingContext(keyid)),
      };
    }
    try {
      await clientKeyStore.insert(this.db, row);
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateKeyError();
      throw error;
    }
    // This instance at once; the others within the directory's freshness window (5 s).
    this.directory.invalidate(clientId);
    const key = (await clientKeyStore.ofClient(this.db, clientId)).find((candidate) => candidate.keyid === row.keyid)!;
    return { key, secret };
  }

  /**
   * Removes a key. A private_key_jwt or self_signed_tls_client_auth client keeps at least one public key: without one it could
   * never authenticate again, and the way to end a client is deleting it.
   */
  async remove(clientId: string, keyid: string): Promise<ClientKey> {
    const removed = await this.db.transaction(async (trx) => {
      // Locks the client, so two removals of its last two keys cannot both see one left.
      const client = await trx('clients').select('auth_method').where({ id: clientId }).forUpdate().first();
      if (!client) throw new NotFoundError(`no client with id "${clientId}"`);
      const keys = await clientKeyStore.ofClient(trx, clientId);
      const key = keys.find((candidate) => candidate.keyid === keyid);
      if (!key) throw new NotFoundError(`client "${clientId}" has no key "${keyid}"`);
      const publicKeys = keys.filter((candidate) => candidate.publicJwk !== null);
      const method = (client as { auth_method: Client['authMethod'] }).auth_method;
      if (usesPublicKeys({ authMethod: method }) && key.publicJwk && publicKeys.length === 1) {
        throw new ConflictError(
          `"${keyid}" is the last public key of a ${method} client: add its replacement first (clients add-key), or delete the client`,
        );
      }
      await clientKeyStore.delete(trx, clientId, keyid);
      return key;
    });
    this.directory.invalidate(clientId);
    return removed;
  }

  /**
   * An HMAC secret as sealed in its row, opened (bound to its keyid: a secret moved to another row
   * does not open); undefined, and logged, when it does not open (SealedRecords): the key is unusable.
   */
  openSecret(keyid: string, sealed: string): string | undefined {
    return this.sealed.open(sealed, sealingContext(keyid), sealedRecord(keyid));
  }

  /**
   * During a KEY_ENCRYPTION_KEY rotation (KEY_ENCRYPTION_KEY_PREVIOUS set), seals every HMAC
   * secret under the new key, so the previous one can be dropped; the numbers re-sealed and left.
   * A secret that does not open is left as it is (logged): one altered row must not stop Tollgate
   * starting — but while any is left, the rotation is not complete, and the caller says so.
   */
  async resealSecrets(): Promise<{ resealed: number; unopened: number }> {
    const kek = this.#kek();
    const stale = (await clientKeyStore.sealedSecrets(this.db)).filter(
      ({ secretSealed }) => sealedBy(secretSealed) !== kekId(kek),
    );
    let resealed = 0;
    for (const { keyid, secretSealed } of stale) {
      const secret = this.openSecret(keyid, secretSealed);
      if (secret === undefined) continue;
      await clientKeyStore.reseal(this.db, keyid, seal(kek, secret, sealingContext(keyid)));
      resealed += 1;
    }
    return { resealed, unopened: stale.length - resealed };
  }

  #kek(): Buffer {
    const kek = this.keks[0];
    if (!kek) throw new Error('no key-encryption key');
    return kek;
  }

  async #client(id: string): Promise<Client> {
    const client = await clientStore.byId(this.db, id);
    if (!client) throw new NotFoundError(`no client with id "${id}"`);
    return client;
  }
}
