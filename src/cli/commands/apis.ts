import { MAX_TOKEN_TTL, tokenTtlLimitMessage } from '../../apis/api.js';
import { callAdmin, CliError } from '../admin-client.js';
import { defined, integer, list, oneId, parse, text } from '../args.js';
import { print, record, table, type Row } from '../format.js';

const USAGE = {
  create: 'tollgate apis create --identifier URI --scopes "a:read a:write" [--name NAME] [--token-ttl SECONDS] [--alg ES256|RS256|PS256|EdDSA] [--json]',
  update: 'tollgate apis update ID [--identifier URI] [--scopes "…"] [--name NAME] [--token-ttl SECONDS] [--alg ALG] [--json]',
  list: 'tollgate apis list [--json]',
  show: 'tollgate apis show ID [--json]',
  delete: 'tollgate apis delete ID [--json]',
};
const FIELDS = { identifier: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' }, 'token-ttl': { type: 'string' }, alg: { type: 'string' } } as const;
const COLUMNS = ['id', 'identifier', 'scopes', 'token_ttl', 'alg'];

function tokenTtl(value: string | boolean | undefined): number | undefined {
  const ttl = integer(value, '--token-ttl');
  if (ttl !== undefined && ttl > MAX_TOKEN_TTL) {
    throw new CliError(tokenTtlLimitMessage('--token-ttl'));
  }
  return ttl;
}

function body(values: Record<string, string | boolean | undefined>) {
  return defined({
    identifier: text(values.identifier),
    scopes: list(values.scopes),
    name: text(values.name),
    token_ttl: tokenTtl(values['token-ttl']),
    alg: text(values.alg),
  });
}

const path = (id: string) => `/apis/${encodeURIComponent(id)}`;

export async function apisCommand(action: string | undefined, args: string[]): Promise<void> {
  switch (action) {
    case 'create': {
      const parsed = parse(args, FIELDS, USAGE.create);
      if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"\nusage: ${USAGE.create}`);
      if (!parsed.values.identifier) throw new CliError(`--identifier is required\nusage: ${USAGE.create}`);
      const api = await callAdmin('POST', '/apis', body(parsed.values)) as Row;
      return print(api, !!parsed.values.json, () => `Created API ${api.identifier}\n${record(api)}`);
    }
    case 'list': {
      const parsed = parse(args, {}, USAGE.list);
      const apis = await callAdmin('GET', '/apis') as Row[];
      return print(apis, !!parsed.values.json, () => table(apis, COLUMNS));
    }
    case 'show': {
      const parsed = parse(args, {}, USAGE.show);
      const api = await callAdmin('GET', path(oneId(parsed, USAGE.show))) as Row;
      return print(api, !!parsed.values.json, () => record(api));
    }
    case 'update': {
      const parsed = parse(args, FIELDS, USAGE.update);
      const id = oneId(parsed, USAGE.update);
      const api = await callAdmin('PATCH', path(id), body(parsed.values)) as Row;
      return print(api, !!parsed.values.json, () => `Updated API ${api.identifier}\n${record(api)}`);
    }
    case 'delete': {
      const parsed = parse(args, {}, USAGE.delete);
      const api = await callAdmin('DELETE', path(oneId(parsed, USAGE.delete))) as Row;
      return print(api, !!parsed.values.json, () => `Deleted API ${api.identifier}`);
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
