import { adminRoutes } from '../../contract/index.js';
import { callAdmin, CliError } from '../admin-client.js';
import { check, runGroup, usage, type Command, type Invocation, type OptionSpec } from '../command.js';
import { print, record, table, type Row } from '../format.js';
import { readLineFromStdin } from '../stdin.js';

const COLUMNS = ['id', 'username', 'email', 'created_at'];
const path = (id: string) => `/users/${encodeURIComponent(id)}`;
const group = 'users';
const PASSWORD_STDIN: OptionSpec = {
  flag: 'password-stdin', kind: 'switch', required: true, help: 'read the password as one line from standard input (never from the command line)',
};

/** Passwords never travel on the command line, where `ps` and shell history would keep them. */
async function withPassword(command: Command, call: Invocation): Promise<Record<string, unknown>> {
  if (!call.parsed.values['password-stdin']) {
    throw new CliError(`--password-stdin is required: the password is read from standard input\nusage: ${usage(command)}`);
  }
  const body = { ...call.body, password: await readLineFromStdin('password') };
  check(command, body);
  return body;
}

const create: Command = {
  group, action: 'create', summary: 'Create a user', route: adminRoutes.createUser, later: ['password'],
  options: [{ flag: 'username', field: 'username', kind: 'text', value: 'NAME', required: true }, PASSWORD_STDIN, { flag: 'email', field: 'email', kind: 'text', value: 'E' }],
  async run(call) {
    const user = await callAdmin('POST', '/users', await withPassword(create, call)) as Row;
    print(user, call.json, () => `Created user ${user.username}\n${record(user)}`);
  },
};

const setPassword: Command = {
  group, action: 'set-password', summary: 'Set a user\'s password, revoking their sessions and grants', id: 'ID',
  route: adminRoutes.setUserPassword, later: ['password'], options: [PASSWORD_STDIN],
  async run(call) {
    const user = await callAdmin('PUT', `${path(call.id)}/password`, await withPassword(setPassword, call)) as Row;
    print(user, call.json, () => `Password changed for ${user.username}; their sessions and grants are revoked`);
  },
};

const COMMANDS: readonly Command[] = [
  create,
  {
    group, action: 'list', summary: 'List users', route: adminRoutes.listUsers, options: [],
    async run({ json }) {
      const users = await callAdmin('GET', '/users') as Row[];
      print(users, json, () => table(users, COLUMNS));
    },
  },
  {
    group, action: 'show', summary: 'Show a user by id or username', id: 'ID', route: adminRoutes.showUser, options: [],
    async run({ id, json }) {
      const user = await callAdmin('GET', path(id)) as Row;
      print(user, json, () => record(user));
    },
  },
  {
    group, action: 'update', summary: 'Change a user\'s username or email', id: 'ID', route: adminRoutes.updateUser,
    options: [{ flag: 'username', field: 'username', kind: 'text', value: 'NAME' }, { flag: 'email', field: 'email', kind: 'text', value: 'E' }],
    async run({ id, body, json }) {
      const user = await callAdmin('PATCH', path(id), body) as Row;
      print(user, json, () => `Updated user ${user.username}\n${record(user)}`);
    },
  },
  setPassword,
  {
    group, action: 'delete', summary: 'Delete a user, revoking their sessions and grants', id: 'ID', route: adminRoutes.deleteUser, options: [],
    async run({ id, json }) {
      const user = await callAdmin('DELETE', path(id)) as Row;
      print(user, json, () => `Deleted user ${user.username}; their sessions and grants are revoked`);
    },
  },
];

export const usersCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
