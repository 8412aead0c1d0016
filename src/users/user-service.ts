import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../lib/errors.js';
import { ID_PREFIX, newId } from '../lib/ids.js';
import { asBody, optionalString, rejectUnknownFields, requiredString } from '../lib/validate.js';
import { oidcPayloadStore } from '../oidc/payload-store.js';
import { assertAcceptablePassword, hashPassword } from './password.js';
import type { User } from './user.js';
import { userStore } from './user-store.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function username(value: string): string {
  if (!USERNAME.test(value)) throw new ValidationError('username must be 1–64 letters, digits or . _ @ + - (starting with a letter or digit)');
  // Users are found by id or by username (show, update, delete): a username that looks like an id
  // ("user_…", any case) could name another user's id and make a command act on the wrong user.
  if (value.toLowerCase().startsWith(ID_PREFIX.user)) throw new ValidationError(`username must not begin with "${ID_PREFIX.user}": that prefix marks user ids`);
  return value;
}

function email(value: string | undefined): string | undefined {
  if (value !== undefined && (!EMAIL.test(value) || value.length > 254)) throw new ValidationError(`"${value}" is not an email address`);
  return value;
}

function password(body: Record<string, unknown>): string {
  const value = body.password;
  if (typeof value !== 'string' || !value) throw new ValidationError('password is required');
  return value;
}

/** The rules for users; SQL stays in userStore. */
export class UserService {
  constructor(private readonly db: Knex) {}

  list(): Promise<User[]> {
    return userStore.all(this.db);
  }

  /** By id, or by username for convenience. */
  async show(key: string): Promise<User> {
    const user = await userStore.byId(this.db, key) ?? await userStore.byUsername(this.db, key);
    if (!user) throw new NotFoundError(`no user with id or username "${key}"`);
    return user;
  }

  async create(input: unknown): Promise<User> {
    const body = asBody(input);
    rejectUnknownFields(body, ['username', 'email', 'password']);
    const name = username(requiredString(body, 'username', 64));
    const secret = password(body);
    await assertAcceptablePassword(secret, name);
    const user = { id: newId('user'), username: name, email: email(optionalString(body, 'email', 254)) ?? null, passwordHash: await hashPassword(secret) };
    await this.#unique(() => userStore.insert(this.db, user));
    return this.show(user.id);
  }

  async update(key: string, input: unknown): Promise<User> {
    const body = asBody(input);
    rejectUnknownFields(body, ['username', 'email']);
    const user = await this.show(key);
    const changes = {
      ...(body.username !== undefined ? { username: username(requiredString(body, 'username', 64)) } : {}),
      ...(body.email !== undefined ? { email: body.email === null ? null : email(requiredString(body, 'email', 254))! } : {}),
    };
    if (!Object.keys(changes).length) throw new ValidationError('nothing to update: give username or email');
    await this.#unique(() => userStore.update(this.db, user.id, changes));
    return this.show(user.id);
  }

  /** A new password ends every session and grant the user had. */
  async setPassword(key: string, input: unknown): Promise<User> {
    const body = asBody(input);
    rejectUnknownFields(body, ['password']);
    const user = await this.show(key);
    const secret = password(body);
    await assertAcceptablePassword(secret, user.username);
    const passwordHash = await hashPassword(secret);
    await this.db.transaction(async (trx) => {
      await userStore.update(trx, user.id, { passwordHash });
      await oidcPayloadStore.deleteByAccount(trx, user.id);
    });
    return this.show(user.id);
  }

  async delete(key: string): Promise<User> {
    const user = await this.show(key);
    await this.db.transaction(async (trx) => {
      await oidcPayloadStore.deleteByAccount(trx, user.id);
      await userStore.delete(trx, user.id);
    });
    return user;
  }

  async #unique(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('that username is taken');
      throw error;
    }
  }
}
