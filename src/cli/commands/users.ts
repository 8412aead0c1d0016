import { adminRoutes } from '../../contract/index.js';
import { CliError } from '../admin-client.js';
import { check, runGroup, usage, type Command, type Invocation, type OptionSpec } from '../command.js';
import { record, table, type Row } from '../format.js';
import { readLineFromStdin } from '../stdin.js';

const COLUMNS = ['id', 'username', 'email', 'created_at'];
const group = 'users';
const PASSWORD_STDIN: OptionSpec = {
  flag: 'password-stdin',
  kind: 'switch',
  required: true,
  help: 'read the password as one line from standard input (never from the command line)',
};

/** Passwords never travel on the command line, where `ps` and shell history would keep them. */
async function withPassword(this: Command, call: Invocation): Promise<Record<string, unknown>> {
  if (!call.parsed.values['password-stdin']) {
    throw new CliError(`--password-stdin is required: the password is read from standard input\nusage: ${usage(this)}`);
  }
  const body = { ...call.body, password: await readLineFromStdin('password') };
  check(this, body);
  return body;
}

const create: Command = {
  group,
  action: 'create',
  summary: 'Create a user',
  route: adminRoutes.createUser,
  later: ['password'],
  body: withPassword,
  options: [
    { flag: 'username', field: 'username', kind: 'text', value: 'NAME', required: true },
    PASSWORD_STDIN,
    { flag: 'email', field: 'email', kind: 'text', value: 'E' },
  ],
  show: (user: Row) => `Created user ${user.username}\n${record(user)}`,
};

const setPassword: Command = {
  group,
  action: 'set-password',
  summary: "Set a user's password, revoking their sessions and grants",
  id: 'ID',
  route: adminRoutes.setUserPassword,
  later: ['password'],
  body: withPassword,
  options: [PASSWORD_STDIN],
  show: (user: Row) => `Password changed for ${user.username}; their sessions and grants are revoked`,
};

const COMMANDS: readonly Command[] = [
  create,
  {
    group,
    action: 'list',
    summary: 'List users',
    route: adminRoutes.listUsers,
    options: [],
    show: (users: Row[]) => table(users, COLUMNS),
  },
  {
    group,
    action: 'show',
    summary: 'Show a user by id or username',
    id: 'ID',
    route: adminRoutes.showUser,
    options: [],
    show: (user: Row) => record(user),
  },
  {
    group,
    action: 'update',
    summary: "Change a user's username or email",
    id: 'ID',
    route: adminRoutes.updateUser,
    options: [
      { flag: 'username', field: 'username', kind: 'text', value: 'NAME' },
      { flag: 'email', field: 'email', kind: 'text', value: 'E' },
    ],
    show: (user: Row) => `Updated user ${user.username}\n${record(user)}`,
  },
  setPassword,
  {
    group,
    action: 'delete',
    summary: 'Delete a user, revoking their sessions and grants',
    id: 'ID',
    route: adminRoutes.deleteUser,
    options: [],
    show: (user: Row) => `Deleted user ${user.username}; their sessions and grants are revoked`,
  },
];

export const usersCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
