import type { Context } from 'koa';
import { isUtf8Text } from '../lib/acceptable-text.js';
import { TollgateError } from '../lib/errors.js';
import type { RefusalCounter } from '../limits/limit-names.js';
import type { RateLimit } from '../limits/rate-limit.js';
import { tooManyRequestsJson } from '../limits/too-many-requests.js';
import { sendErrorResponse } from '../web/error-response.js';
import { MAX_FORM_BYTES, handedFormValues, peekFormValues } from '../web/form-peek.js';
import { readLimitedBody } from '../web/read-body.js';

/** A parameter's values, as many as were sent: a form repeats a name, JSON has one member (or an array). */
export type Parameters = (name: string) => unknown[];

/** Why a question cannot be answered, in words for its 400 invalid_request. */
export type Problem = { problem: string };

/** An API configured with more identifiers than this is not one API. */
export const MAX_AUDIENCES = 20;

/** The asking API's identifiers: `audience` once or more (a form repeats it, JSON may send an array). */
export function audiencesOf(get: Parameters): string[] | Problem {
  const audiences = get('audience');
  if (
    audiences.length === 0 ||
    audiences.length > MAX_AUDIENCES ||
    audiences.some((audience) => typeof audience !== 'string' || audience === '')
  )
    return { problem: `send the API's identifiers (1 to ${MAX_AUDIENCES}) as audience` };
  return audiences as string[];
}

export interface QuestionRules<Question> {
  /** Per client address, questions answered inactive; made with `blockInMemory`. */
  failures: RateLimit;
  refused: RefusalCounter;
  /** The failure limit's name, for `tollgate_rate_limited_total{limit}`. */
  limitName: string;
  /** What to send, for the 400 when the body is neither a form nor JSON. */
  expected: string;
  read: (get: Parameters) => Question | Problem;
}

/**
 * What every endpoint an API asks does before its question (API-key and signature verification):
 * no-store, POST only (405 with Allow), the per-address failure limit (429 while it holds), the
 * body read as a form or JSON, and 400 invalid_request for a malformed question. Undefined when
 * it has answered the request itself.
 */
export async function receiveQuestion<Question extends object>(
  ctx: Context,
  rules: QuestionRules<Question>,
): Promise<Question | undefined> {
  ctx.set('Cache-Control', 'no-store');
  if (ctx.method !== 'POST') {
    sendErrorResponse(
      ctx,
      new TollgateError(405, 'invalid_request', `${ctx.method} is not allowed here: POST the question`, {
        headers: { Allow: 'POST' },
      }),
    );
    return undefined;
  }
  const blocked = rules.failures.blocked(ctx.ip);
  if (!blocked.allowed) {
    rules.refused(rules.limitName);
    tooManyRequestsJson(ctx, blocked.retryAfterSeconds);
    return undefined;
  }
  const body = await readQuestionBody(ctx, ['audience'], rules.expected);
  if (!body) return undefined; // too large a form: peekForm answered
  const asked = typeof body === 'function' ? rules.read(body) : body;
  if ('problem' in asked) {
    sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', asked.problem));
    return undefined;
  }
  return asked;
}

/**
 * The body of a question an API POSTs to one of Tollgate's own endpoints (API-key and signature
 * verification): a form or a JSON object. `arrays` are the parameters that may repeat, which JSON
 * sends as an array. Undefined when the form was too large (peekForm answered 400 already).
 */
async function readQuestionBody(
  ctx: Context,
  arrays: readonly string[],
  expected: string,
): Promise<Parameters | { problem: string } | undefined> {
  // The input guard hands on form bodies only, read and parsed: no second content-type check.
  const handed = handedFormValues(ctx);
  if (handed) return handed;
  if (ctx.is('application/x-www-form-urlencoded')) return peekFormValues(ctx);
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
