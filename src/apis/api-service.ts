import type { Knex } from 'knex';
import { DEFAULT_SIGNING_ALGORITHM, type SigningAlgorithm } from '../lib/signing-algorithms.js';
import { ConflictError, NotFoundError, isUniqueViolation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { DEFAULT_TOKEN_TTL } from '../lib/token-lifetime.js';
import type { Api } from './api.js';
import type { ApiCatalog } from './api-catalog.js';
import { apiStore } from './api-store.js';

/** An API to register, each field already well-formed (the admin contract parses it at the edge). */
export interface NewApi {
  identifier: string;
  name?: string | undefined;
  scopes: string[];
  /** Default DEFAULT_TOKEN_TTL. */
  tokenTtl?: number | undefined;
  /** Default DEFAULT_SIGNING_ALGORITHM. */
  alg?: SigningAlgorithm | undefined;
}

/** What an update changes; undefined leaves a field as it is. */
export type ApiChanges = Partial<NewApi>;

/** The rules for registering APIs; SQL stays in apiStore. */
export class ApiService {
  constructor(
    private readonly db: Knex,
    private readonly catalog: ApiCatalog,
  ) {}

  list(): Promise<Api[]> {
    return apiStore.all(this.db);
  }

  async show(key: string): Promise<Api> {
    const api = await apiStore.byIdOrIdentifier(this.db, key);
    if (!api) throw new NotFoundError(`no API with id or identifier "${key}"`);
    return api;
  }

  /** Uniqueness (of the identifier, of scopes across APIs) is checked here, in the transaction that writes. */
  async create(input: NewApi): Promise<Api> {
    const { identifier, scopes } = input;
    const api = {
      id: newId('api'),
      identifier,
      name: input.name ?? null,
      scopes,
      tokenTtl: input.tokenTtl ?? DEFAULT_TOKEN_TTL,
      alg: input.alg ?? DEFAULT_SIGNING_ALGORITHM,
    };
    await this.#write(async (trx) => {
      if (await apiStore.byIdOrIdentifier(trx, identifier))
        throw new ConflictError(`an API with identifier ${identifier} already exists`);
      await this.#assertScopesFree(trx, scopes, api.id);
      await apiStore.insert(trx, api);
    });
    return this.show(api.id);
  }

  async update(key: string, changes: ApiChanges): Promise<Api> {
    const existing = await this.show(key);
    const { identifier, name, scopes, tokenTtl: ttl, alg: algorithm } = changes;
    await this.#write(async (trx) => {
      if (identifier && identifier !== existing.identifier && (await apiStore.byIdOrIdentifier(trx, identifier))) {
        throw new ConflictError(`an API with identifier ${identifier} already exists`);
      }
      await apiStore.update(trx, existing.id, {
        ...(identifier !== undefined ? { identifier } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(ttl !== undefined ? { tokenTtl: ttl } : {}),
        ...(algorithm !== undefined ? { alg: algorithm } : {}),
      });
      if (scopes) {
        await this.#assertScopesFree(trx, scopes, existing.id);
        await apiStore.replaceScopes(trx, existing.id, scopes);
      }
    });
    return this.show(existing.id);
  }

  async delete(key: string): Promise<Api> {
    const api = await this.show(key);
    await this.#write((trx) => apiStore.delete(trx, api.id));
    return api;
  }

  async #assertScopesFree(db: Knex, scopes: string[], apiId: string): Promise<void> {
    const taken = (await apiStore.scopeOwners(db, scopes)).filter((owner) => owner.api_id !== apiId);
    const first = taken[0];
    if (first) {
      throw new ConflictError(
        `scope "${first.scope}" already belongs to ${first.identifier}: scope names are unique across APIs (prefix them, e.g. orders:read)`,
      );
    }
  }

  async #write(work: (trx: Knex.Transaction) => Promise<unknown>): Promise<void> {
    try {
      await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(
          'an API with that identifier or one of those scopes was registered at the same time; list the APIs and try again',
        );
      throw error;
    } finally {
      this.catalog.invalidate();
    }
  }
}
