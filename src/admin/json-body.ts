import type { Context } from 'koa';
import { readLimitedBody } from '../web/read-body.js';
import { isUtf8Text, unacceptableParameter } from '../lib/acceptable-text.js';
import { TollgateError, ValidationError } from '../lib/errors.js';

/** Admin request bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The first string (member name or value) in a JSON document that breaks the text rule, with its path. */
function unacceptableString(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') {
    const problem = unacceptableParameter(value);
    return problem && `${path || 'the request body'} ${problem}`;
  }
  if (typeof value !== 'object' || value === null || depth > 10) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const name = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const keyProblem = Array.isArray(value) ? undefined : unacceptableParameter(key);
    if (keyProblem) return `a field name ${keyProblem}`;
    const problem = unacceptableString(item, name, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The JSON body of an admin request. Refused (400) unless it is UTF-8 — decoding would otherwise
 * store U+FFFD where the caller sent other bytes — and unless every string in it is free of
 * control characters and lone surrogates (a NUL cannot be stored in PostgreSQL text at all).
 * Line breaks and tabs pass here (a PEM document is text with lines); single-line fields refuse
 * them too, in the admin contract (src/contract/wire-fields.ts).
 */
export async function readJsonBody(ctx: Context): Promise<unknown> {
  const tooLarge = new TollgateError(413, 'invalid_request', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (Number(ctx.get('content-length') || 0) > MAX_BODY_BYTES) throw tooLarge;
  const body = await readLimitedBody(ctx.req, MAX_BODY_BYTES);
  if (!body) throw tooLarge;
  if (!body.length) return {};
  if (!ctx.is('application/json'))
    throw new TollgateError(415, 'invalid_request', 'send the request body as application/json');
  if (!isUtf8Text(body)) throw new ValidationError('the request body is not valid UTF-8');
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
  const problem = unacceptableString(document, '');
  if (problem) throw new ValidationError(problem);
  return document;
}
