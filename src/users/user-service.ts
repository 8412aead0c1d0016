import type { Knex } from 'knex';
import { ConflictError, NotFoundError, isUniqueViolation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { oidcPayloadStore } from '../artefacts/payload-store.js';
import { assertAcceptablePassword, hashPassword } from './password.js';
import type { User } from './user.js';
import { userStore } from './user-store.js';

/** A user to create, each field already well-formed (the admin contract parses it at the edge). */
export interface NewUser {
  username: string;
  email: string | null;
  password: string;
}

/** What an update changes; undefined leaves a field as it is, an email of null removes it. */
export interface UserChanges {
  username?: string | undefined;
  email?: string | null | undefined;
}

/** The rules for users; SQL stays in userStore. */
export class UserService {
  constructor(private readonly db: Knex) {}

  list(): Promise<User[]> {
    return userStore.all(this.db);
  }

  /** By id, or by username for convenience. */
  async show(key: string): Promise<User> {
    const user = (await userStore.byId(this.db, key)) ?? (await userStore.byUsername(this.db, key));
    if (!user) throw new NotFoundError(`no user with id or username "${key}"`);
    return user;
  }

  /** Password strength and uniqueness are checked here. */
  async create(input: NewUser): Promise<User> {
    await assertAcceptablePassword(input.password, input.username);
    const user = {
      id: newId('user'),
      username: input.username,
      email: input.email,
      passwordHash: await hashPassword(input.password),
    };
    await this.#unique(() => userStore.insert(this.db, user));
    return this.show(user.id);
  }

  async update(key: string, input: UserChanges): Promise<User> {
    const user = await this.show(key);
    const changes = {
      ...(input.username !== undefined ? { username: input.username } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
    };
    await this.#unique(() => userStore.update(this.db, user.id, changes));
    return this.show(user.id);
  }

  /** A new password ends every session and grant the user had. */
  async setPassword(key: string, input: { password: string }): Promise<User> {
    const user = await this.show(key);
    await assertAcceptablePassword(input.password, user.username);
    const passwordHash = await hashPassword(input.password);
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
