import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './admin-client.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** node:util parseArgs with every command's --json and errors as one readable line. */
export function parse(args: string[], options: Options, usage: string): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new CliError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}\nusage: ${usage}`);
  }
}

export function oneId(parsed: Parsed, usage: string): string {
  const [id, ...rest] = parsed.positionals;
  if (!id || rest.length) throw new CliError(`expected one ID\nusage: ${usage}`);
  return id;
}

/** "a,b" or "a b" → ["a", "b"]; undefined stays undefined. */
export function list(value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split(/[\s,]+/).filter(Boolean);
}

export function integer(value: string | boolean | undefined, flag: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`${flag} must be a whole number of seconds, got "${value}"`);
  return Number(value);
}

export function text(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Drops undefined fields so a PATCH changes only what was given. */
export function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
