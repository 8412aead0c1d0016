import { callAdmin, CliError } from '../admin-client.js';
import { defined, list, oneId, parse, text } from '../args.js';
import { print, record, table, type Row } from '../format.js';

const USAGE = {
  create: 'tollgate clients create --name NAME --grant-types client_credentials[,authorization_code,refresh_token] [--redirect-uris URI[,URI…]] [--post-logout-redirect-uris URI[,URI…]] [--scopes "…"] [--public] [--first-party] [--json]',
  update: 'tollgate clients update ID [--name NAME] [--grant-types …] [--redirect-uris …] [--post-logout-redirect-uris …] [--scopes "…"] [--first-party|--no-first-party] [--disable|--enable] [--json]',
  list: 'tollgate clients list [--json]',
  show: 'tollgate clients show ID [--json]',
  delete: 'tollgate clients delete ID [--json]',
  rotateSecret: 'tollgate clients rotate-secret ID [--json]',
};
const FIELDS = {
  name: { type: 'string' },
  'grant-types': { type: 'string' },
  'redirect-uris': { type: 'string' },
  'post-logout-redirect-uris': { type: 'string' },
  scopes: { type: 'string' },
  'first-party': { type: 'boolean' },
} as const;
const COLUMNS = ['client_id', 'name', 'grant_types', 'scopes', 'public', 'disabled'];

function body(values: Record<string, string | boolean | undefined>) {
  return defined({
    name: text(values.name),
    grant_types: list(values['grant-types']),
    redirect_uris: list(values['redirect-uris']),
    post_logout_redirect_uris: list(values['post-logout-redirect-uris']),
    scopes: list(values.scopes),
  });
}

function withSecretNotice(client: Row): string {
  const secret = client.client_secret
    ? `\n\nclient_secret: ${client.client_secret}\nStore it now: it is shown once and Tollgate keeps only its hash.`
    : '';
  return record({ ...client, client_secret: undefined }).replace(/\nclient_secret:\s*$/m, '') + secret;
}

const path = (id: string) => `/clients/${encodeURIComponent(id)}`;

export async function clientsCommand(action: string | undefined, args: string[]): Promise<void> {
  switch (action) {
    case 'create': {
      const parsed = parse(args, { ...FIELDS, public: { type: 'boolean' } }, USAGE.create);
      if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"\nusage: ${USAGE.create}`);
      if (!parsed.values.name) throw new CliError(`--name is required\nusage: ${USAGE.create}`);
      if (!parsed.values['grant-types']) throw new CliError(`--grant-types is required\nusage: ${USAGE.create}`);
      const client = await callAdmin('POST', '/clients', {
        ...body(parsed.values),
        public: !!parsed.values.public,
        first_party: !!parsed.values['first-party'],
      }) as Row;
      return print(client, !!parsed.values.json, () => `Created client ${client.name}\n${withSecretNotice(client)}`);
    }
    case 'list': {
      const parsed = parse(args, {}, USAGE.list);
      const clients = await callAdmin('GET', '/clients') as Row[];
      return print(clients, !!parsed.values.json, () => table(clients, COLUMNS));
    }
    case 'show': {
      const parsed = parse(args, {}, USAGE.show);
      const client = await callAdmin('GET', path(oneId(parsed, USAGE.show))) as Row;
      return print(client, !!parsed.values.json, () => record(client));
    }
    case 'update': {
      const parsed = parse(args, {
        ...FIELDS, 'no-first-party': { type: 'boolean' }, disable: { type: 'boolean' }, enable: { type: 'boolean' },
      }, USAGE.update);
      const id = oneId(parsed, USAGE.update);
      const { values } = parsed;
      if (values.disable && values.enable) throw new CliError('give --disable or --enable, not both');
      if (values['first-party'] && values['no-first-party']) throw new CliError('give --first-party or --no-first-party, not both');
      const client = await callAdmin('PATCH', path(id), {
        ...body(values),
        ...defined({
          first_party: values['first-party'] ? true : values['no-first-party'] ? false : undefined,
          disabled: values.disable ? true : values.enable ? false : undefined,
        }),
      }) as Row;
      return print(client, !!values.json, () => `Updated client ${client.name}\n${record(client)}`);
    }
    case 'delete': {
      const parsed = parse(args, {}, USAGE.delete);
      const client = await callAdmin('DELETE', path(oneId(parsed, USAGE.delete))) as Row;
      return print(client, !!parsed.values.json, () => `Deleted client ${client.name} (${client.client_id}); its grants and tokens are revoked`);
    }
    case 'rotate-secret': {
      const parsed = parse(args, {}, USAGE.rotateSecret);
      const client = await callAdmin('POST', `${path(oneId(parsed, USAGE.rotateSecret))}/rotate-secret`) as Row;
      return print(client, !!parsed.values.json, () => `New secret for ${client.name}; the old one no longer works.\n${withSecretNotice(client)}`);
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
