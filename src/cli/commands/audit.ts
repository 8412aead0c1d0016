import { adminRoutes } from '../../contract/index.js';
import { runGroup, type Command } from '../command.js';
import { table, type Row } from '../format.js';

const COLUMNS = ['time', 'type', 'actor', 'subject', 'ip', 'detail'];
const group = 'audit';

const COMMANDS: readonly Command[] = [
  {
    group,
    action: 'list',
    summary: 'List audit log entries, newest first',
    route: adminRoutes.listAudit,
    // Query parameters: the contract's descriptions are their help, its checks refuse bad values before any call.
    options: [
      { flag: 'since', field: 'since', kind: 'text', value: 'ISO' },
      { flag: 'type', field: 'type', kind: 'text', value: 'TYPE' },
      { flag: 'limit', field: 'limit', kind: 'text', value: 'N' },
    ],
    show: (entries: Row[]) =>
      table(
        entries.map((entry) => ({ ...entry, detail: JSON.stringify(entry.detail) })),
        COLUMNS,
      ),
  },
];

export const auditCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
