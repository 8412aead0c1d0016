import { callAdmin, CliError } from '../admin-client.js';
import { parse } from '../args.js';
import { print, table, type Row } from '../format.js';

const USAGE = {
  list: 'tollgate keys list [--json]',
  rotate: 'tollgate keys rotate [--force] [--json]',
};
const COLUMNS = ['kid', 'alg', 'state', 'published_at', 'activated_at', 'remove_after'];

export async function keysCommand(action: string | undefined, args: string[]): Promise<void> {
  switch (action) {
    case 'list': {
      const parsed = parse(args, {}, USAGE.list);
      const keys = await callAdmin('GET', '/keys') as Row[];
      return print(keys, !!parsed.values.json, () => table(keys, COLUMNS));
    }
    case 'rotate': {
      const parsed = parse(args, { force: { type: 'boolean' } }, USAGE.rotate);
      if (parsed.positionals.length) throw new CliError(`unexpected argument "${parsed.positionals[0]}"\nusage: ${USAGE.rotate}`);
      const keys = await callAdmin('POST', '/keys/rotate', { force: !!parsed.values.force }) as Row[];
      return print(keys, !!parsed.values.json, () => `Rotated: the former next keys now sign; new next keys are published.\n${table(keys, COLUMNS)}`);
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
