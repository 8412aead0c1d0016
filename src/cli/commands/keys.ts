import { adminRoutes } from '../../contract/index.js';
import { callAdmin } from '../admin-client.js';
import { runGroup, type Command } from '../command.js';
import { print, table, type Row } from '../format.js';

const COLUMNS = ['kid', 'alg', 'state', 'published_at', 'activated_at', 'remove_after'];
const group = 'keys';

const COMMANDS: readonly Command[] = [
  {
    group, action: 'list', summary: 'List signing keys', route: adminRoutes.listKeys, options: [],
    async run({ json }) {
      const keys = await callAdmin('GET', '/keys') as Row[];
      print(keys, json, () => table(keys, COLUMNS));
    },
  },
  {
    group, action: 'rotate', summary: 'Promote the next keys to current and publish new next keys', route: adminRoutes.rotateKeys,
    options: [{ flag: 'force', field: 'force', kind: 'switch' }],
    async run({ body, json }) {
      const keys = await callAdmin('POST', '/keys/rotate', body) as Row[];
      print(keys, json, () => `Rotated: the former next keys now sign; new next keys are published.\n${table(keys, COLUMNS)}`);
    },
  },
  {
    group, action: 'revoke', summary: 'Withdraw a key (and replace it)', id: 'KID', route: adminRoutes.revokeKey, options: [],
    async run({ id, json }) {
      const result = await callAdmin('POST', `/keys/${encodeURIComponent(id)}/revoke`) as { revoked: string[]; keys: Row[] };
      print(result, json, () => `Revoked ${result.revoked.join(', ')}: withdrawn from the JWKS and never signing again (other instances within 60 s).\n${table(result.keys, COLUMNS)}`);
    },
  },
];

export const keysCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
