import { z } from 'zod';

/**
 * How an input problem is worded, as a function of the field's name: the admin API names a field
 * as it appears on the wire (`token_ttl`), the CLI as its option (`--token-ttl`), and both give
 * the same sentence around it.
 */
export type Say = (field: string) => string;
/** A refusal's wording, which may also name other fields (on the wire, or by their options). */
export type SayNaming = (field: string, nameOf: (field: string) => string) => string;

/** Wording a field schema keeps for itself when the generic one would be wrong or vague. */
export interface FieldWording {
  /** The field is absent or null where it is required. */
  missing?: Say;
  /** The value has the wrong JSON type. */
  invalid?: Say;
}

/** Not zod's global registry: these entries must not show up in the OpenAPI document. */
export const fieldWording = z.registry<FieldWording>();

/** Refuses the value being transformed with a problem of its own (a rule of the wire contract). */
export function refuse(ctx: z.RefinementCtx, say: SayNaming): never {
  ctx.addIssue({ code: 'custom', params: { say } });
  return z.NEVER;
}

/** The words for a value of the wrong JSON type, by the type zod expected. */
const EXPECTED: Record<string, string> = {
  string: 'must be a string',
  boolean: 'must be true or false',
  number: 'must be a whole number',
  int: 'must be a whole number',
  array: 'must be a list of strings',
};

export interface WordedIssue {
  message: string;
  /** A required field is absent: the CLI follows this with its usage line. */
  missing: boolean;
  /** The body field at fault, when it is one field's. */
  field?: string;
}

/** One zod issue in Tollgate's words, naming the field through `nameOf`. */
function wordIssue(issue: z.core.$ZodRawIssue, nameOf: (field: string) => string): WordedIssue {
  const inst = issue.inst;
  const path = issue.path ?? [];
  const [field] = path;
  if (field === undefined) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = Object.keys((inst as { _zod?: { def?: { shape?: object } } })?._zod?.def?.shape ?? {});
      const plural = issue.keys.length > 1 ? 's' : '';
      return {
        message: `unknown field${plural}: ${issue.keys.map(nameOf).join(', ')} (allowed: ${allowed.map(nameOf).join(', ')})`,
        missing: false,
      };
    }
    if (issue.code === 'custom' && typeof issue.params?.say === 'function')
      return { message: (issue.params.say as SayNaming)('', nameOf), missing: false };
    return { message: 'the request body must be a JSON object', missing: false };
  }
  const name = nameOf(String(field));
  const wording = inst ? fieldWording.get(inst as z.ZodType) : undefined;
  const input = issue.input;
  if (issue.code === 'custom' && typeof issue.params?.say === 'function')
    return { message: (issue.params.say as SayNaming)(name, nameOf), missing: false };
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && input == null && path.length === 1) {
    return { message: wording?.missing?.(name) ?? `${name} is required`, missing: true };
  }
  if (wording?.invalid) return { message: wording.invalid(name), missing: false };
  if (issue.code === 'invalid_type')
    return { message: `${name} ${EXPECTED[issue.expected] ?? `must be a ${issue.expected}`}`, missing: false };
  if (issue.code === 'invalid_union') return { message: `${name} must be a list of strings`, missing: false };
  if (issue.code === 'invalid_value')
    return { message: `${name} must be one of ${issue.values.join(', ')}`, missing: false };
  return { message: `${name} is not valid`, missing: false };
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: WordedIssue };

/**
 * Parses `input` with a contract schema. On failure, the one problem a caller reads: unknown
 * fields first (the likeliest mistake, and the old readers' order), else the first field's.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  nameOf: (field: string) => string = (field) => field,
): ParseResult<z.output<S>> {
  const missing = new Set<string>();
  const result = z.safeParse(schema, input, {
    error: (issue) => {
      const worded = wordIssue(issue, nameOf);
      if (worded.missing) missing.add(worded.message);
      return worded.message;
    },
  });
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues;
  const first = issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0]!;
  const field = first.code === 'unrecognized_keys' || first.path[0] === undefined ? undefined : String(first.path[0]);
  return {
    ok: false,
    problem: { message: first.message, missing: missing.has(first.message), ...(field === undefined ? {} : { field }) },
  };
}
