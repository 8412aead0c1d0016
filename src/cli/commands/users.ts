import { callAdmin, CliError } from '../admin-client.js';
import { defined, oneId, parse, text } from '../args.js';
import { print, record, table, type Row } from '../format.js';
import { readLineFromStdin } from '../stdin.js';

const USAGE = {
  create: 'tollgate users create --username NAME --password-stdin [--email E] [--json]',
  list: 'tollgate users list [--json]',
  show: 'tollgate users show ID [--json]',
  update: 'tollgate users update ID [--username NAME] [--email E] [--json]',
  setPassword: 'tollgate users set-password ID --password-stdin [--json]',
  delete: 'tollgate users delete ID [--json]',
};
const COLUMNS = ['id', 'username', 'email', 'created_at'];
const path = (id: string) => `/users/${encodeURIComponent(id)}`;

/** Passwords never travel on the command line, where `ps` and shell history would keep them. */
async function passwordFromStdin(values: Record<string, string | boolean | undefined>, usage: string): Promise<string> {
  if (!values['password-stdin']) throw new CliError(`--password-stdin is required: the password is read from standard input\nusage: ${usage}`);
  return readLineFromStdin('password');
}

export async function usersCommand(action: string | undefined, args: string[]): Promise<void> {
  switch (action) {
    case 'create': {
      const parsed = parse(args, { username: { type: 'string' }, email: { type: 'string' }, 'password-stdin': { type: 'boolean' } }, USAGE.create);
      if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"\nusage: ${USAGE.create}`);
      if (!parsed.values.username) throw new CliError(`--username is required\nusage: ${USAGE.create}`);
      const password = await passwordFromStdin(parsed.values, USAGE.create);
      const user = await callAdmin('POST', '/users', defined({ username: text(parsed.values.username), email: text(parsed.values.email), password })) as Row;
      return print(user, !!parsed.values.json, () => `Created user ${user.username}\n${record(user)}`);
    }
    case 'list': {
      const parsed = parse(args, {}, USAGE.list);
      const users = await callAdmin('GET', '/users') as Row[];
      return print(users, !!parsed.values.json, () => table(users, COLUMNS));
    }
    case 'show': {
      const parsed = parse(args, {}, USAGE.show);
      const user = await callAdmin('GET', path(oneId(parsed, USAGE.show))) as Row;
      return print(user, !!parsed.values.json, () => record(user));
    }
    case 'update': {
      const parsed = parse(args, { username: { type: 'string' }, email: { type: 'string' } }, USAGE.update);
      const id = oneId(parsed, USAGE.update);
      const user = await callAdmin('PATCH', path(id), defined({ username: text(parsed.values.username), email: text(parsed.values.email) })) as Row;
      return print(user, !!parsed.values.json, () => `Updated user ${user.username}\n${record(user)}`);
    }
    case 'set-password': {
      const parsed = parse(args, { 'password-stdin': { type: 'boolean' } }, USAGE.setPassword);
      const id = oneId(parsed, USAGE.setPassword);
      const password = await passwordFromStdin(parsed.values, USAGE.setPassword);
      const user = await callAdmin('PUT', `${path(id)}/password`, { password }) as Row;
      return print(user, !!parsed.values.json, () => `Password changed for ${user.username}; their sessions and grants are revoked`);
    }
    case 'delete': {
      const parsed = parse(args, {}, USAGE.delete);
      const user = await callAdmin('DELETE', path(oneId(parsed, USAGE.delete))) as Row;
      return print(user, !!parsed.values.json, () => `Deleted user ${user.username}; their sessions and grants are revoked`);
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
