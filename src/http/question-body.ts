import type { Context } from 'koa';
import { isUtf8Text } from '../lib/acceptable-text.js';
import { MAX_FORM_BYTES, peekForm } from '../web/form-peek.js';
import { readLimitedBody } from '../web/read-body.js';

/** A parameter's values, as many as were sent: a form repeats a name, JSON has one member (or an array). */
export type Parameters = (name: string) => unknown[];

/**
 * The body of a question an API POSTs to one of Tollgate's own endpoints (API-key and signature
 * verification): a form or a JSON object. `arrays` are the parameters that may repeat, which JSON
 * sends as an array. Undefined when the form was too large (peekForm answered 400 already).
 */
export async function readQuestionBody(
  ctx: Context,
  arrays: readonly string[],
  expected: string,
): Promise<Parameters | { problem: string } | undefined> {
  if (ctx.is('application/x-www-form-urlencoded')) {
    const form = await peekForm(ctx);
    return form && ((name) => form.getAll(name));
  }
  if (ctx.is('application/json')) {
    const bytes = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
    if (!bytes) return { problem: 'the request body is too large' };
    let document: unknown;
    try {
      document = isUtf8Text(bytes) ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      document = undefined;
    }
    if (!document || typeof document !== 'object' || Array.isArray(document))
      return { problem: 'the request body must be a JSON object' };
    const members = document as Record<string, unknown>;
    // JSON has arrays where a form repeats a parameter: audience may be either (RFC 7662's `aud` is too).
    return (name) =>
      !Object.hasOwn(members, name)
        ? []
        : arrays.includes(name) && Array.isArray(members[name])
          ? (members[name] as unknown[])
          : [members[name]];
  }
  return { problem: `send ${expected} as application/x-www-form-urlencoded or application/json` };
}
