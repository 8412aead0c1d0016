import { callAdmin, CliError } from '../admin-client.js';
import { parse } from '../args.js';
import { print, table, type Row } from '../format.js';

const USAGE = { list: 'tollgate keys list [--json]' };

export async function keysCommand(action: string | undefined, args: string[]): Promise<void> {
  switch (action) {
    case 'list': {
      const parsed = parse(args, {}, USAGE.list);
      const keys = await callAdmin('GET', '/keys') as Row[];
      return print(keys, !!parsed.values.json, () => table(keys, ['kid', 'alg', 'state', 'created_at', 'activated_at']));
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
