import type { Knex } from 'knex';
import { DEFAULT_SIGNING_ALGORITHM, SIGNING_ALGORITHMS, isSigningAlgorithm, type SigningAlgorithm } from '../keys/algorithms.js';
import { ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { asBody, optionalInteger, optionalList, optionalString, rejectUnknownFields, requiredString } from '../lib/validate.js';
import { DEFAULT_TOKEN_TTL, MAX_TOKEN_TTL, tokenTtlLimitMessage, type Api } from './api.js';
import type { ApiCatalog } from './api-catalog.js';
import { apiStore } from './api-store.js';
import { isReservedScope, isScopeToken } from './scope-names.js';

const FIELDS = ['identifier', 'name', 'scopes', 'token_ttl', 'alg'] as const;

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
function validIdentifier(value: string): string {
  const url = URL.parse(value);
  if (!url || !/^[a-z][a-z0-9+.-]*:/i.test(value)) throw new ValidationError(`identifier must be an absolute URI such as https://api.example.com, got "${value}"`);
  if (url.hash || value.includes('#')) throw new ValidationError('identifier must not contain a fragment (#…)');
  return value;
}

function validScopes(scopes: string[]): string[] {
  for (const scope of scopes) {
    if (!isScopeToken(scope)) throw new ValidationError(`"${scope}" is not a valid scope name (printable ASCII without spaces, quotes or backslashes)`);
    if (isReservedScope(scope)) throw new ValidationError(`"${scope}" is reserved for OpenID Connect and cannot be an API scope`);
  }
  return scopes;
}

function tokenTtl(body: Record<string, unknown>): number | undefined {
  const value = body.token_ttl;
  if (typeof value === 'number' && Number.isInteger(value) && value > MAX_TOKEN_TTL) {
    throw new ValidationError(`${tokenTtlLimitMessage('token_ttl')}, got ${value}`);
  }
  return optionalInteger(body, 'token_ttl', 1, MAX_TOKEN_TTL);
}

function alg(body: Record<string, unknown>): SigningAlgorithm | undefined {
  const value = body.alg;
  if (value === undefined || value === null) return undefined;
  if (!isSigningAlgorithm(value)) throw new ValidationError(`alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  return value;
}

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

  async create(input: unknown): Promise<Api> {
    const body = asBody(input);
    rejectUnknownFields(body, FIELDS);
    const identifier = validIdentifier(requiredString(body, 'identifier', 2048));
    const scopes = validScopes(optionalList(body, 'scopes') ?? []);
    const api = {
      id: newId('api'),
      identifier,
      name: optionalString(body, 'name') ?? null,
      scopes,
      tokenTtl: tokenTtl(body) ?? DEFAULT_TOKEN_TTL,
      alg: alg(body) ?? DEFAULT_SIGNING_ALGORITHM,
    };
    await this.#write(async (trx) => {
      if (await apiStore.byIdOrIdentifier(trx, identifier)) throw new ConflictError(`an API with identifier ${identifier} already exists`);
      await this.#assertScopesFree(trx, scopes, api.id);
      await apiStore.insert(trx, api);
    });
    return this.show(api.id);
  }

  async update(key: string, input: unknown): Promise<Api> {
    const body = asBody(input);
    rejectUnknownFields(body, FIELDS);
    const existing = await this.show(key);
    const identifier = body.identifier === undefined ? undefined : validIdentifier(requiredString(body, 'identifier', 2048));
    const scopesInput = optionalList(body, 'scopes');
    const scopes = scopesInput && validScopes(scopesInput);
    const name = optionalString(body, 'name');
    const ttl = tokenTtl(body);
    const algorithm = alg(body);
    await this.#write(async (trx) => {
      if (identifier && identifier !== existing.identifier && await apiStore.byIdOrIdentifier(trx, identifier)) {
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
      throw new ConflictError(`scope "${first.scope}" already belongs to ${first.identifier}: scope names are unique across APIs (prefix them, e.g. orders:read)`);
    }
  }

  async #write(work: (trx: Knex.Transaction) => Promise<unknown>): Promise<void> {
    try {
      await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('an API with that identifier or one of those scopes was registered at the same time; list the APIs and try again');
      throw error;
    } finally {
      this.catalog.invalidate();
    }
  }
}
