import { adminRoutes } from '../../contract/index.js';
import { runGroup, type Command } from '../command.js';
import { table, type Row } from '../format.js';

const COLUMNS = ['kid', 'alg', 'state', 'published_at', 'activated_at', 'remove_after'];
const group = 'keys';

const COMMANDS: readonly Command[] = [
  {
    group,
    action: 'list',
    summary: 'List signing keys',
    route: adminRoutes.listKeys,
    options: [],
    show: (keys: Row[]) => table(keys, COLUMNS),
  },
  {
    group,
    action: 'rotate',
    summary: 'Promote the next keys to current and publish new next keys',
    route: adminRoutes.rotateKeys,
    options: [{ flag: 'force', field: 'force', kind: 'switch' }],
    show: (keys: Row[]) =>
      `Rotated: the former next keys now sign; new next keys are published.\n${table(keys, COLUMNS)}`,
  },
  {
    group,
    action: 'revoke',
    summary: 'Withdraw a key (and replace it)',
    id: 'KID',
    route: adminRoutes.revokeKey,
    options: [],
    show: (result: { revoked: string[]; keys: Row[] }) =>
      `Revoked ${result.revoked.join(', ')}: withdrawn from the JWKS and never signing again (other instances within 60 s).\n${table(result.keys, COLUMNS)}`,
  },
];

export const keysCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
