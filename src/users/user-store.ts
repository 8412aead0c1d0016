import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';
import { camelRow } from '../db/rows.js';
import type { User } from './user.js';

interface UserRow {
  id: string;
  username: string;
  email: string | null;
  password_hash: string;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date;
}

function fromRow(row: UserRow): User {
  return camelRow(row);
}

/** SQL for users. */
export const userStore = {
  async all(db: Knex): Promise<User[]> {
    return (await db('users').select().orderBy('created_at')).map(fromRow);
  },

  async byId(db: Knex, id: string): Promise<User | undefined> {
    const row = await db('users').where({ id }).first();
    return row ? fromRow(row) : undefined;
  },

  async byUsername(db: Knex, username: string): Promise<User | undefined> {
    const row = await db('users').whereRaw('lower(username) = lower(?)', [username]).first();
    return row ? fromRow(row) : undefined;
  },

  async insert(db: Knex, user: Pick<User, 'id' | 'username' | 'email' | 'passwordHash'>): Promise<void> {
    await db('users').insert({
      id: user.id,
      username: user.username,
      email: user.email,
      password_hash: user.passwordHash,
    });
  },

  async update(
    db: Knex,
    id: string,
    changes: Partial<Pick<User, 'username' | 'email' | 'passwordHash'>>,
  ): Promise<void> {
    const columns: Record<string, unknown> = { updated_at: db.fn.now() };
    if (changes.username !== undefined) columns.username = changes.username;
    if (changes.email !== undefined) columns.email = changes.email;
    if (changes.passwordHash !== undefined) {
      columns.password_hash = changes.passwordHash;
      columns.password_changed_at = db.fn.now();
    }
    await db('users').where({ id }).update(columns);
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return affectedRows(await db('users').where({ id }).delete()) > 0;
  },
};
