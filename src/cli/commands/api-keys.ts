import { adminRoutes } from '../../contract/index.js';
import { runGroup, type Command } from '../command.js';
import { record, table, type Row } from '../format.js';

const COLUMNS = ['id', 'prefix', 'client_id', 'name', 'scopes', 'status', 'expires_at', 'last_used_at'];
const group = 'api-keys';

/** The key once, set apart from the record, with what to do with it. */
function withKeyNotice(answer: Row): string {
  const { key, ...rest } = answer;
  return `${record(rest)}\n\nkey: ${String(key)}\nStore it now: it is shown once and Tollgate keeps only its SHA-256 hash.`;
}

const COMMANDS: readonly Command[] = [
  {
    group,
    action: 'create',
    summary: 'Issue an API key for a client (partner)',
    route: adminRoutes.createApiKey,
    options: [
      { flag: 'client', field: 'client_id', kind: 'text', value: 'CLIENT_ID', required: true },
      { flag: 'scopes', field: 'scopes', kind: 'list', value: '"…"', required: true },
      { flag: 'name', field: 'name', kind: 'text', value: 'NAME' },
      { flag: 'expires-in', field: 'expires_in_days', kind: 'days', value: 'DAYS' },
      { flag: 'rate-limit', field: 'rate_limit', kind: 'text', value: 'N/s|N/min|N/h' },
    ],
    show: (key: Row) => `Created API key ${String(key.id)} for ${String(key.client_id)}\n${withKeyNotice(key)}`,
  },
  {
    group,
    action: 'list',
    summary: 'List API keys, of one client with --client (never a key itself)',
    route: adminRoutes.listApiKeys,
    options: [{ flag: 'client', kind: 'text', value: 'CLIENT_ID', help: "only this client's keys" }],
    target: (call) => {
      const client = call.parsed.values.client;
      return typeof client === 'string'
        ? { route: adminRoutes.listClientApiKeys, id: client }
        : { route: adminRoutes.listApiKeys, id: '' };
    },
    show: (keys: Row[]) => table(keys, COLUMNS),
  },
  {
    group,
    action: 'show',
    summary: 'Show an API key (never the key itself)',
    id: 'ID',
    route: adminRoutes.showApiKey,
    options: [],
    show: (key: Row) => record(key),
  },
  {
    group,
    action: 'revoke',
    summary: 'Revoke an API key',
    id: 'ID',
    route: adminRoutes.revokeApiKey,
    options: [],
    show: (key: Row) => `Revoked API key ${String(key.id)} (${String(key.prefix)}…): refused everywhere within 5 s`,
  },
  {
    group,
    action: 'rotate',
    summary: 'Replace an API key; the old one works for --grace seconds (default 0)',
    id: 'ID',
    route: adminRoutes.rotateApiKey,
    options: [{ flag: 'grace', field: 'grace_seconds', kind: 'seconds', value: 'SECONDS' }],
    show: (key: Row) => `New API key ${String(key.id)}, replacing the old one\n${withKeyNotice(key)}`,
  },
];

export const apiKeysCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
