import type { Knex } from 'knex';
import { scopeOwners, type ApiCatalog } from '../apis/api-catalog.js';
import { clientStore } from '../clients/client-store.js';
import { generateApiKey, recognisablePrefix } from '@tollgate/resource-server/api-key-format';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { isReservedScope } from '../lib/scope-names.js';
import { sha256Base64url } from '../lib/sha256.js';
import { apiKeyStatus, type ApiKey } from './api-key.js';
import { apiKeyStore } from './api-key-store.js';
import type { LastUsedRecorder } from './last-used.js';

const DAY_MS = 86_400_000;

/** A key to issue, each field already well-formed (the admin contract parses it at the edge). */
export interface NewApiKey {
  clientId: string;
  scopes: string[];
  name: string | undefined;
  expiresInDays: number | undefined;
  /** Normalised (`60/min`). */
  rateLimit: string | undefined;
}

/** A key with what it is for now: the APIs owning its scopes. */
export interface DescribedApiKey {
  apiKey: ApiKey;
  audience: string[];
}

export interface IssuedApiKey extends DescribedApiKey {
  /** Shown once, never stored: only its SHA-256 is kept. */
  key: string;
}

/** The rules for issuing, showing, revoking and rotating API keys; SQL stays in apiKeyStore. */
export class ApiKeyService {
  constructor(
    private readonly db: Knex,
    private readonly catalog: ApiCatalog,
    private readonly lastUsed: LastUsedRecorder,
  ) {}

  async list(clientId?: string): Promise<DescribedApiKey[]> {
    if (clientId !== undefined && !(await clientStore.byId(this.db, clientId)))
      throw new NotFoundError(`no client with id "${clientId}"`);
    return Promise.all((await apiKeyStore.all(this.db, clientId)).map((key) => this.#describe(key)));
  }

  async show(id: string): Promise<DescribedApiKey> {
    return this.#describe(await this.#find(id));
  }

  /**
   * A key carries scopes its client is allowed, each an API's: its audience follows from them by
   * the rule client credentials use (scopeOwners). Refused, never trimmed: an operator who asked
   * for a scope learns at once that the key will not carry it.
   */
  async create(input: NewApiKey): Promise<IssuedApiKey> {
    const client = await clientStore.byId(this.db, input.clientId);
    if (!client) throw new ValidationError(`client_id: no client with id "${input.clientId}"`);
    const reserved = input.scopes.find(isReservedScope);
    if (reserved)
      throw new ValidationError(`scope "${reserved}" is for tokens issued to users; an API key carries API scopes`);
    const notAllowed = input.scopes.filter((scope) => !client.scopes.includes(scope));
    if (notAllowed.length) {
      throw new ValidationError(
        `client "${client.id}" is not allowed ${notAllowed.map((scope) => `scope "${scope}"`).join(', ')}: a key carries only scopes its client is allowed (tollgate clients update ${client.id} --scopes …)`,
      );
    }
    const { unowned } = scopeOwners(await this.catalog.snapshot(), input.scopes);
    if (unowned.length) {
      throw new ValidationError(
        `scope "${unowned[0]}" belongs to no registered API, so a key for it would reach nothing`,
      );
    }
    const expiresAt = input.expiresInDays === undefined ? null : new Date(Date.now() + input.expiresInDays * DAY_MS);
    return this.#issue(this.db, { ...input, name: input.name ?? null, rateLimit: input.rateLimit ?? null, expiresAt });
  }

  /** Idempotent: a revoked key stays revoked as of the first time. */
  async revoke(id: string): Promise<DescribedApiKey> {
    await this.#find(id);
    await apiKeyStore.revoke(this.db, id, new Date());
    return this.show(id);
  }

  /**
   * A new key with the same client, name, scopes, expiry and rate limit; the old one works for
   * `graceSeconds` more (0: stops at once), so a partner can deploy the new one first.
   */
  async rotate(id: string, graceSeconds: number): Promise<IssuedApiKey> {
    const existing = await this.#find(id);
    const status = apiKeyStatus(existing);
    if (existing.replacedBy) {
      throw new ConflictError(`API key "${id}" was already rotated, to "${existing.replacedBy}": rotate that one`);
    }
    if (status === 'revoked' || status === 'expired') {
      throw new ConflictError(`API key "${id}" is ${status}: issue a new one (tollgate api-keys create)`);
    }
    return this.db.transaction(async (trx) => {
      const issued = await this.#issue(trx, { ...existing });
      const graceUntil = new Date(Date.now() + graceSeconds * 1000);
      if (!(await apiKeyStore.markReplaced(trx, id, issued.apiKey.id, graceUntil))) {
        throw new ConflictError(`API key "${id}" was rotated or revoked meanwhile`);
      }
      return issued;
    });
  }

  async #issue(
    db: Knex,
    fields: Pick<ApiKey, 'clientId' | 'scopes' | 'name' | 'rateLimit' | 'expiresAt'>,
  ): Promise<IssuedApiKey> {
    const key = generateApiKey();
    const id = newId('apiKey');
    await apiKeyStore.insert(db, {
      id,
      clientId: fields.clientId,
      name: fields.name,
      scopes: fields.scopes,
      keyHash: sha256Base64url(key),
      prefix: recognisablePrefix(key),
      rateLimit: fields.rateLimit,
      expiresAt: fields.expiresAt,
    });
    const stored = await apiKeyStore.byId(db, id);
    return { key, ...(await this.#describe(stored!)) };
  }

  async #find(id: string): Promise<ApiKey> {
    const key = await apiKeyStore.byId(this.db, id);
    if (!key) throw new NotFoundError(`no API key with id "${id}"`);
    return key;
  }

  async #describe(key: ApiKey): Promise<DescribedApiKey> {
    const pending = this.lastUsed.pending(key.id);
    const lastUsedAt = pending && (!key.lastUsedAt || pending > key.lastUsedAt) ? pending : key.lastUsedAt;
    const { owners } = scopeOwners(await this.catalog.snapshot(), key.scopes);
    return { apiKey: { ...key, lastUsedAt }, audience: [...owners.keys()] };
  }
}
