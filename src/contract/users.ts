import { z } from 'zod';
import { ID_PREFIX } from '../lib/ids.js';
import { optional, requiredText } from './wire-fields.js';
import { fieldWording, refuse } from './wording.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const USERNAME_RULE = '1–64 letters, digits or . _ @ + - (starting with a letter or digit)';

const username = requiredText(64).transform((value, ctx) => {
  if (!USERNAME.test(value)) return refuse(ctx, (field) => `${field} must be ${USERNAME_RULE}`);
  // Users are found by id or by username (show, update, delete): a username that looks like an id
  // ("user_…", any case) could name another user's id and make a command act on the wrong user.
  if (value.toLowerCase().startsWith(ID_PREFIX.user))
    return refuse(ctx, (field) => `${field} must not begin with "${ID_PREFIX.user}": that prefix marks user ids`);
  return value;
});

const email = requiredText(254).transform((value, ctx) => {
  if (!EMAIL.test(value) || value.length > 254) return refuse(ctx, () => `"${value}" is not an email address`);
  return value;
});

/** Taken as sent (not trimmed): a password is checked for strength by the service, not here. */
const password = z
  .string()
  .register(fieldWording, { invalid: (field) => `${field} is required` })
  .transform((value, ctx) => {
    if (!value) return refuse(ctx, (field) => `${field} is required`);
    return value;
  });

/** POST /users */
export const createUserBody = z
  .strictObject({
    username: username.meta({ description: USERNAME_RULE }),
    email: optional(email).meta({ description: 'an email address (optional)' }),
    password: password.meta({ description: 'checked for strength against common passwords and the username' }),
  })
  .transform((body) => ({ username: body.username, email: body.email ?? null, password: body.password }));
export type CreateUserInput = z.output<typeof createUserBody>;

/** PATCH /users/:id: `email: null` removes the address; a field present must hold a value otherwise. */
export const updateUserBody = z
  .strictObject({
    username: username.optional().meta({ description: USERNAME_RULE }),
    email: email.nullable().optional().meta({ description: 'an email address (JSON null removes it)' }),
  })
  .transform((body, ctx) => {
    if (body.username === undefined && body.email === undefined)
      return refuse(ctx, () => 'nothing to update: give username or email');
    return { username: body.username, email: body.email };
  });
export type UpdateUserInput = z.output<typeof updateUserBody>;

/** PUT /users/:id/password */
export const setPasswordBody = z
  .strictObject({
    password: password.meta({ description: 'checked for strength against common passwords and the username' }),
  })
  .transform((body) => ({ password: body.password }));
export type SetPasswordInput = z.output<typeof setPasswordBody>;
