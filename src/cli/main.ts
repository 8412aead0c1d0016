import { CliError } from './admin-client.js';
import { apisCommand } from './commands/apis.js';
import { apiKeysCommand } from './commands/api-keys.js';
import { auditCommand } from './commands/audit.js';
import { clientsCommand } from './commands/clients.js';
import { keysCommand } from './commands/keys.js';
import { usersCommand } from './commands/users.js';
import { ADMIN_TOKEN_LOCATION, DEFAULT_ADMIN_URL, DEFAULT_DATA_DIR } from '../lib/admin-defaults.js';

const HELP = `tollgate — manage a Tollgate authorization server through its admin API

  tollgate apis create|list|show|update|delete …
  tollgate clients create|list|show|update|delete|rotate-secret …
  tollgate api-keys create|list|show|revoke|rotate …
  tollgate users create|list|show|update|set-password|delete …
  tollgate keys list|rotate [--force]|revoke KID
  tollgate audit list [--since ISO] [--type TYPE] [--limit N]

Every command takes --json for one JSON document on stdout.
Admin API: TOLLGATE_ADMIN_URL (default ${DEFAULT_ADMIN_URL}); token: TOLLGATE_ADMIN_TOKEN,
else ${ADMIN_TOKEN_LOCATION} (DATA_DIR default ${DEFAULT_DATA_DIR}).
Run "tollgate <group>" for the options of each command, "tollgate <group> <command> --help" for one.`;

const GROUPS: Record<string, (action: string | undefined, args: string[]) => Promise<void>> = {
  apis: apisCommand,
  clients: clientsCommand,
  'api-keys': apiKeysCommand,
  users: usersCommand,
  keys: keysCommand,
  audit: auditCommand,
};

async function main(argv: string[]): Promise<void> {
  const [group, action, ...args] = argv;
  if (!group || group === 'help' || group === '--help' || group === '-h') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const command = GROUPS[group];
  if (!command) throw new CliError(`unknown command "${group}"\n\n${HELP}`);
  await command(action, args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof CliError ? error.message : `unexpected error: ${(error as Error).message}`;
  process.stderr.write(`tollgate: ${message}\n`);
  process.exitCode = error instanceof CliError ? 2 : 1;
});
