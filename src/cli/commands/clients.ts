import { adminRoutes } from '../../contract/index.js';
import { runGroup, type Command, type OptionSpec } from '../command.js';
import { record, table, type Row } from '../format.js';

const LISTS: readonly OptionSpec[] = [
  { flag: 'redirect-uris', field: 'redirect_uris', kind: 'list', value: 'URI[,URI…]' },
  { flag: 'post-logout-redirect-uris', field: 'post_logout_redirect_uris', kind: 'list', value: 'URI[,URI…]' },
  { flag: 'scopes', field: 'scopes', kind: 'list', value: '"…"' },
];
const RATE_LIMIT: OptionSpec = { flag: 'rate-limit', field: 'rate_limit', kind: 'text', value: 'N/s|N/min|N/h|none' };
const COLUMNS = ['client_id', 'name', 'grant_types', 'scopes', 'public', 'disabled'];
const KEY_COLUMNS = ['keyid', 'alg', 'thumbprint', 'created_at'];
const PUBLIC_KEY: OptionSpec = { flag: 'public-key', field: 'public_key', kind: 'file', value: 'FILE' };
const AUTH_METHOD: OptionSpec = {
  flag: 'auth-method',
  field: 'auth_method',
  kind: 'text',
  value: 'client_secret_basic|private_key_jwt|tls_client_auth|self_signed_tls_client_auth',
};
const TLS_SUBJECT: readonly OptionSpec[] = [
  { flag: 'tls-subject', field: 'tls_subject', kind: 'text', value: '"CN=…,O=…"' },
  { flag: 'tls-san-dns', field: 'tls_san_dns', kind: 'text', value: 'NAME' },
];
const group = 'clients';

function withSecretNotice(client: Row): string {
  const secret = client.client_secret
    ? `\n\nclient_secret: ${client.client_secret}\nStore it now: it is shown once and Tollgate keeps only its hash.`
    : '';
  return record({ ...client, client_secret: undefined }).replace(/\nclient_secret:\s*$/m, '') + secret;
}

/** An HMAC secret once, set apart from the record, with what to do with it. */
function withKeySecretNotice(key: Row): string {
  const { secret, ...rest } = key;
  if (secret === undefined) return record(rest);
  return `${record(rest)}\n\nsecret: ${String(secret)}\nStore it now: it is shown once. Sign with it as it is (its ASCII bytes are the HMAC key).`;
}

const COMMANDS: readonly Command[] = [
  {
    group,
    action: 'create',
    summary: 'Register a client',
    route: adminRoutes.createClient,
    options: [
      { flag: 'name', field: 'name', kind: 'text', value: 'NAME', required: true },
      {
        flag: 'grant-types',
        field: 'grant_types',
        kind: 'list',
        value: 'client_credentials[,authorization_code,refresh_token]',
        required: true,
      },
      ...LISTS,
      { flag: 'public', field: 'public', kind: 'switch' },
      AUTH_METHOD,
      PUBLIC_KEY,
      ...TLS_SUBJECT,
      { flag: 'certificate-bound', field: 'certificate_bound', kind: 'switch' },
      { flag: 'first-party', field: 'first_party', kind: 'switch' },
      RATE_LIMIT,
    ],
    show: (client: Row) => `Created client ${client.name}\n${withSecretNotice(client)}`,
  },
  {
    group,
    action: 'list',
    summary: 'List clients',
    route: adminRoutes.listClients,
    options: [],
    show: (clients: Row[]) => table(clients, COLUMNS),
  },
  {
    group,
    action: 'show',
    summary: 'Show a client',
    id: 'ID',
    route: adminRoutes.showClient,
    options: [],
    show: (client: Row) => record(client),
  },
  {
    group,
    action: 'update',
    summary: 'Change a client',
    id: 'ID',
    route: adminRoutes.updateClient,
    options: [
      { flag: 'name', field: 'name', kind: 'text', value: 'NAME' },
      { flag: 'grant-types', field: 'grant_types', kind: 'list', value: '…' },
      ...LISTS,
      { flag: 'first-party', off: 'no-first-party', field: 'first_party', kind: 'switch' },
      { flag: 'disable', off: 'enable', field: 'disabled', kind: 'switch' },
      RATE_LIMIT,
      AUTH_METHOD,
      PUBLIC_KEY,
      ...TLS_SUBJECT,
      { flag: 'certificate-bound', off: 'no-certificate-bound', field: 'certificate_bound', kind: 'switch' },
    ],
    show: (client: Row) => `Updated client ${client.name}\n${withSecretNotice(client)}`,
  },
  {
    group,
    action: 'delete',
    summary: 'Delete a client, revoking its grants and tokens',
    id: 'ID',
    route: adminRoutes.deleteClient,
    options: [],
    show: (client: Row) => `Deleted client ${client.name} (${client.client_id}); its grants and tokens are revoked`,
  },
  {
    group,
    action: 'rotate-secret',
    summary: 'Give a client a new secret',
    id: 'ID',
    route: adminRoutes.rotateClientSecret,
    options: [],
    show: (client: Row) => `New secret for ${client.name}; the old one no longer works.\n${withSecretNotice(client)}`,
  },
  {
    group,
    action: 'add-key',
    summary: "Register a client's public key, or generate an HMAC secret, for signed requests",
    id: 'CLIENT_ID',
    route: adminRoutes.addClientKey,
    options: [PUBLIC_KEY, { flag: 'hmac', field: 'hmac', kind: 'switch' }],
    show: (key: Row) => `Added key ${String(key.keyid)} (${String(key.alg)})\n${withKeySecretNotice(key)}`,
  },
  {
    group,
    action: 'list-keys',
    summary: "List a client's keys (never an HMAC secret)",
    id: 'CLIENT_ID',
    route: adminRoutes.listClientKeys,
    options: [],
    show: (keys: Row[]) => table(keys, KEY_COLUMNS),
  },
  {
    group,
    action: 'remove-key',
    summary: "Remove a client's key: refused everywhere within 5 s",
    id: 'CLIENT_ID',
    secondId: 'KEYID',
    route: adminRoutes.removeClientKey,
    options: [],
    show: (key: Row) => `Removed key ${String(key.keyid)} (${String(key.alg)}): refused everywhere within 5 s`,
  },
];

export const clientsCommand = (action: string | undefined, args: string[]) => runGroup(COMMANDS, action, args);
