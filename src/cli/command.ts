import fs from 'node:fs';
import { fieldDescription, parseInput, type AdminRoute } from '../contract/index.js';
import { callAdmin, CliError } from './admin-client.js';
import { parse, type Parsed } from './args.js';
import { print } from './format.js';

/** One option of a command: the flag, what it fills and how help shows it. */
export interface OptionSpec {
  /** The flag without its dashes. */
  flag: string;
  /**
   * The body field it fills (or query parameter, for a route that takes a query); none for options
   * the CLI reads itself (--password-stdin).
   */
  field?: string;
  /**
   * text: a string; list: "a,b" or "a b", sent as an array; seconds, days: a whole number; switch:
   * true when given (with `off`, a second flag that sends false: --disable|--enable); file: a path,
   * whose contents (UTF-8 text) are sent.
   */
  kind: 'text' | 'list' | 'seconds' | 'days' | 'switch' | 'file';
  /** How help names the value (URI, NAME, SECONDS). */
  value?: string;
  /** Off-flag of a switch pair. */
  off?: string;
  /** Shown as required in usage; the contract is what refuses its absence. */
  required?: boolean;
  /** Help text when the contract has no description of the field, or a CLI-only option. */
  help?: string;
}

/** One command (`tollgate apis create`): its arguments and the admin route it calls. */
export interface CommandSpec {
  group: string;
  action: string;
  summary: string;
  /** The one positional argument the command takes, if any (ID, KID). */
  id?: string;
  /** A second positional argument, after `id` (`remove-key CLIENT_ID KEYID`). */
  secondId?: string;
  options: readonly OptionSpec[];
  route: AdminRoute;
}

/** What the command's options spell: the route's query, for a route that takes one, else its body. */
function input(spec: CommandSpec) {
  return spec.route.query ?? spec.route.body;
}

/** How the CLI names a body field in messages: by the option that fills it. */
function flagNamer(spec: CommandSpec): (field: string) => string {
  return (field) => {
    const option = spec.options.find((candidate) => candidate.field === field);
    return option ? `--${option.flag}` : field;
  };
}

function optionText(option: OptionSpec): string {
  const flags = option.off ? `--${option.flag}|--${option.off}` : `--${option.flag}`;
  return option.value ? `${flags} ${option.value}` : flags;
}

function optionUsage(option: OptionSpec): string {
  return option.required ? optionText(option) : `[${optionText(option)}]`;
}

/** The usage line, from the same definitions the options are parsed with. */
export function usage(spec: CommandSpec): string {
  return [
    'tollgate',
    spec.group,
    spec.action,
    ...(spec.id ? [spec.id] : []),
    ...(spec.secondId ? [spec.secondId] : []),
    ...spec.options.map(optionUsage),
    '[--json]',
  ].join(' ');
}

/** `tollgate GROUP ACTION --help`: usage, what the command does and every option. */
export function help(spec: CommandSpec): string {
  const rows = [
    ...spec.options.map((option) => {
      const described =
        option.help ?? (option.field && input(spec) ? fieldDescription(input(spec)!, option.field) : undefined);
      return [optionText(option), described ?? ''] as const;
    }),
    ['--json', 'print one JSON document on stdout and nothing else'] as const,
  ];
  // A long value (the grant types) gets its description on the next line rather than a wide column.
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)));
  const row = ([left, right]: readonly [string, string]) =>
    left.length > width && right
      ? `  ${left}\n  ${' '.repeat(width)}  ${right}`
      : `  ${left.padEnd(width)}  ${right}`.trimEnd();
  return [
    `usage: ${usage(spec)}`,
    '',
    `${spec.summary} (${spec.route.method.toUpperCase()} ${spec.route.path} on the admin API).`,
    '',
    ...rows.map(row),
  ].join('\n');
}

/** The most a file option reads: far above any key it carries, far below what would hurt. */
const MAX_FILE_BYTES = 1024 * 1024;

function fileText(path: string, flag: string): string {
  try {
    if (fs.statSync(path).size > MAX_FILE_BYTES) throw new CliError(`${flag}: ${path} is larger than 1 MB`);
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function wholeNumber(value: string, flag: string, unit: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`${flag} must be a whole number of ${unit}, got "${value}"`);
  return Number(value);
}

export interface Invocation {
  parsed: Parsed;
  /** The positional argument, for commands that take one. */
  id: string;
  /** Every positional argument the command takes, in order (the route's path parameters). */
  ids: string[];
  /** The request body (or query) the options spell, in the admin API's wire fields. */
  body: Record<string, unknown>;
  json: boolean;
}

/**
 * Reads a command's arguments: options by its spec, `--help` (printed; undefined returned), its one
 * positional, and the body they spell.
 */
export function invoke(spec: CommandSpec, args: string[]): Invocation | undefined {
  const flags = Object.fromEntries(
    spec.options.flatMap((option) => {
      const type = option.kind === 'switch' ? ('boolean' as const) : ('string' as const);
      return [[option.flag, { type }], ...(option.off ? [[option.off, { type: 'boolean' as const }]] : [])];
    }),
  );
  const parsed = parse(args, { ...flags, help: { type: 'boolean' } }, usage(spec));
  if (parsed.values.help) {
    process.stdout.write(`${help(spec)}\n`);
    return undefined;
  }
  const [id, ...rest] = parsed.positionals;
  if (spec.secondId && (parsed.positionals.length !== 2 || parsed.positionals.some((value) => !value)))
    throw new CliError(`expected ${spec.id} and ${spec.secondId}\nusage: ${usage(spec)}`);
  if (spec.id && !spec.secondId && (!id || rest.length)) throw new CliError(`expected one ID\nusage: ${usage(spec)}`);
  // Commands that send nothing (list) have always ignored stray words; the others refuse them.
  if (!spec.id && id !== undefined && input(spec))
    throw new CliError(`unexpected argument "${id}"\nusage: ${usage(spec)}`);
  const body: Record<string, unknown> = {};
  for (const option of spec.options) {
    const value = parsed.values[option.flag];
    if (!option.field) continue;
    if (option.kind === 'switch') {
      const off = option.off ? parsed.values[option.off] : undefined;
      if (value && off) throw new CliError(`give --${option.flag} or --${option.off}, not both`);
      if (value || off || !option.off) body[option.field] = !!value;
    } else if (typeof value === 'string') {
      body[option.field] =
        option.kind === 'list'
          ? value.split(/[\s,]+/).filter(Boolean)
          : option.kind === 'seconds' || option.kind === 'days'
            ? wholeNumber(value, `--${option.flag}`, option.kind)
            : option.kind === 'file'
              ? fileText(value, `--${option.flag}`)
              : value;
    }
  }
  return { parsed, id: id ?? '', ids: parsed.positionals, body, json: !!parsed.values.json };
}

/**
 * Checks a body against the route's contract before any HTTP call, with the admin API's own
 * message naming the option; a missing option is followed by the usage line. `later` lists fields
 * the CLI fills afterwards (a password read from standard input), not yet refused as missing.
 */
export function check(spec: CommandSpec, body: Record<string, unknown>, later: readonly string[] = []): void {
  const schema = input(spec);
  if (!schema) return;
  const result = parseInput(schema, body, flagNamer(spec));
  if (result.ok || (result.problem.field !== undefined && later.includes(result.problem.field))) return;
  throw new CliError(
    result.problem.missing ? `${result.problem.message}\nusage: ${usage(spec)}` : result.problem.message,
  );
}

/**
 * A command: its route is called with the body its options spell (for routes that take one), and
 * the answer printed as JSON with --json, else as `show` words it.
 */
export interface Command extends CommandSpec {
  /** Body fields the command fills itself after the check (a password from standard input). */
  later?: readonly string[];
  /** The body to send, when the command adds to what its options spell (and checks it again). */
  body?(call: Invocation): Promise<Record<string, unknown>>;
  /** Which route and id to call, when an option picks between two routes (`list --client ID`). */
  target?(call: Invocation): { route: AdminRoute; id: string };
  /** The answer for people. A method, so each command names the shape its route answers. */
  show(answer: unknown): string;
}

/** Every usage line of a group, for `tollgate GROUP` without an action. */
export function groupUsage(commands: readonly CommandSpec[]): string {
  return `usage:\n  ${commands.map(usage).join('\n  ')}`;
}

/** `tollgate GROUP ACTION ARGS`: finds the command, reads and checks its arguments, runs it. */
export async function runGroup(
  commands: readonly Command[],
  action: string | undefined,
  args: string[],
): Promise<void> {
  if (action === '--help' || action === 'help') {
    process.stdout.write(
      `${groupUsage(commands)}\nRun "tollgate ${commands[0]?.group} ACTION --help" for the options of one.\n`,
    );
    return;
  }
  const command = commands.find((candidate) => candidate.action === action);
  if (!command) throw new CliError(groupUsage(commands));
  const call = invoke(command, args);
  if (!call) return;
  check(command, call.body, command.later);
  const body = command.route.body ? (command.body ? await command.body(call) : call.body) : undefined;
  // Query options are text (kind 'text'); the contract has just checked them.
  const query = command.route.query ? (call.body as Record<string, string>) : undefined;
  const { route, id } = command.target?.(call) ?? { route: command.route, id: call.ids };
  const answer = await callAdmin(route, { id, body, query });
  print(answer, call.json, () => command.show(answer));
}
