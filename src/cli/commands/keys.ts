import { callAdmin, CliError } from '../admin-client.js';
import { oneId, parse } from '../args.js';
import { print, table, type Row } from '../format.js';

const USAGE = {
  list: 'tollgate keys list [--json]',
  rotate: 'tollgate keys rotate [--force] [--json]',
  revoke: 'tollgate keys revoke KID [--json]',
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
    case 'revoke': {
      const parsed = parse(args, {}, USAGE.revoke);
      const kid = oneId(parsed, USAGE.revoke);
      const result = await callAdmin('POST', `/keys/${encodeURIComponent(kid)}/revoke`) as { revoked: string[]; keys: Row[] };
      return print(result, !!parsed.values.json, () => `Revoked ${result.revoked.join(', ')}: withdrawn from the JWKS and never signing again (other instances within 60 s).\n${table(result.keys, COLUMNS)}`);
    }
    default:
      throw new CliError(`usage:\n  ${Object.values(USAGE).join('\n  ')}`);
  }
}
