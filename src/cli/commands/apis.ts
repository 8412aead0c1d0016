import { adminRoutes } from '../../contract/index.js';
import { SIGNING_ALGORITHMS } from '../../lib/signing-algorithms.js';
import { runGroup, type Command, type OptionSpec } from '../command.js';
import { record, table, type Row } from '../format.js';

const FIELDS: readonly OptionSpec[] = [
  { flag: 'scopes', field: 'scopes', kind: 'list', value: '"a:read a:write"' },
  { flag: 'name', field: 'name', kind: 'text', value: 'NAME' },
  { flag: 'token-ttl', field: 'token_ttl', kind: 'seconds', value: 'SECONDS' },
  { flag: 'alg', field: 'alg', kind: 'text', value: SIGNING_ALGORITHMS.join('|') },
];
const COLUMNS = ['id', 'identifier', 'scopes', 'token_ttl', 'alg'];
const group = 'apis';

const COMMANDS: readonly Command[] = [
  {
    group,
    action: 'create',
    summary: 'Register an API',
    route: adminRoutes.createApi,
    options: [{ flag: 'identifier', field: 'identifier', kind: 'text', value: 'URI', required: true }, ...FIELDS],
    show: (api: Row) => `Created API ${api.identifier}\n${record(api)}`,
  },
  {
    group,
    action: 'list',
    summary: 'List APIs',
    route: adminRoutes.listApis,
    options: [],
    show: (apis: Row[]) => table(apis, COLUMNS),
  },
  {
    group,
    action: 'show',
    summary: 'Show an API by id or identifier',
    id: 'ID',
    route: adminRoutes.showApi,
    options: [],
    show: (api: Row) => record(api),
  },
  {
    group,
    action: 'update',
    summary: 'Change an API',
    id: 'ID',
    route: adminRoutes.updateApi,
    options: [{ flag: 'identifier', field: 'identifier', kind: 'text', value: 'URI' }, ...FIELDS],
    show: (api: Row) => `Updated API ${api.identifier}\n${record(api)}`,
  },
  {
    group,
    action: 'delete',
    summary: 'Delete an API',
    id: 'ID',
    route: adminRoutes.deleteApi,
    options: [],
    show: (api: Row) => `Deleted API ${api.identifier}`,
  },
];

export const apisCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
