import type { Context, Middleware } from 'koa';
import { decodeComponent, isUtf8Text, unacceptableParameter } from '../lib/acceptable-text.js';
import { errorMessage, sendPage } from '../web/page.js';
import { TollgateError } from '../lib/errors.js';
import { sendErrorResponse } from '../web/error-response.js';
import { MAX_FORM_BYTES, handFormToProvider, type FormFields } from '../web/form-peek.js';
import { readLimitedBody } from '../web/read-body.js';

/** Printable ASCII without `%`: a path or query made only of these needs no decoding to check. */
const PLAIN = /^[\x21-\x24\x26-\x7E]*$/;
/** RFC 3986 §2: a request target holds ASCII only; anything else must be percent-encoded. */
const RAW_NON_ASCII_OR_SPACE = /[^\x21-\x7E]/;

/**
 * A parameter's name as error_description may carry it: RFC 6749 §5.2 allows printable ASCII
 * without `"` and `\` there, so anything else becomes `?`.
 */
function shown(name: string): string {
  const short = name.length > 40 ? `${name.slice(0, 40)}...` : name;
  return `'${short.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')}'`;
}

/** Why the path cannot be accepted (after percent-decoding, each segment as a router would see it). */
export function problemInPath(path: string): string | undefined {
  if (PLAIN.test(path)) return undefined;
  if (RAW_NON_ASCII_OR_SPACE.test(path)) return 'the path holds characters that must be percent-encoded';
  const decoded = decodeComponent(path, false);
  if (decoded === undefined) return 'the path has malformed percent-encoding or is not UTF-8';
  const problem = unacceptableParameter(decoded);
  return problem && `the path ${problem}`;
}

/**
 * Checks an application/x-www-form-urlencoded string — a query string or a form body — and, while
 * at it, parses it: the problem naming the parameter, or the fields. `source` says which it was,
 * for the message. One pass, so a form body is not parsed again for oidc-provider.
 */
export function parseForm(text: string, source: 'query' | 'body'): { problem: string } | { fields: FormFields } {
  if (source === 'query' && RAW_NON_ASCII_OR_SPACE.test(text))
    return { problem: 'the query string holds characters that must be percent-encoded' };
  const fields: FormFields = Object.create(null) as FormFields;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const name = decodeComponent(rawName, true);
    if (name === undefined)
      return { problem: `a ${source} parameter name has malformed percent-encoding or is not UTF-8` };
    const nameProblem = unacceptableParameter(name);
    if (nameProblem) return { problem: `a ${source} parameter name ${nameProblem}` };
    const value = equals === -1 ? '' : decodeComponent(pair.slice(equals + 1), true);
    if (value === undefined)
      return { problem: `the ${source} parameter ${shown(name)} has malformed percent-encoding or is not UTF-8` };
    const valueProblem = unacceptableParameter(value);
    if (valueProblem) return { problem: `the ${source} parameter ${shown(name)} ${valueProblem}` };
    const earlier = fields[name];
    fields[name] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return { fields };
}

/** Why a query string or form cannot be accepted, or undefined. */
export function problemInForm(text: string, source: 'query' | 'body'): string | undefined {
  if (source === 'query' && PLAIN.test(text)) return undefined;
  const parsed = parseForm(text, source);
  return 'problem' in parsed ? parsed.problem : undefined;
}

function isFormPost(ctx: Context): boolean {
  return (
    ctx.method !== 'GET' &&
    ctx.method !== 'HEAD' &&
    ctx.method !== 'OPTIONS' &&
    Boolean(ctx.is('application/x-www-form-urlencoded'))
  );
}

async function problemInBody(ctx: Context): Promise<string | undefined> {
  const bytes = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
  if (!bytes) return 'the request body is too large';
  if (!isUtf8Text(bytes)) return 'the request body is not UTF-8';
  const parsed = parseForm(bytes.toString('utf8'), 'body');
  if ('problem' in parsed) return parsed.problem;
  handFormToProvider(ctx.req, parsed.fields);
  return undefined;
}

export interface InputGuardOptions {
  /** Whether the request is for a page a person sees: refused with a page rather than JSON. */
  isPage(ctx: Context): boolean;
  assets: string;
}

/**
 * In front of everything on the public listener, oidc-provider included: a path, query string or
 * form body holding a control character (a NUL above all), malformed percent-encoding or bytes that
 * are not UTF-8 is refused here with RFC 6749 `invalid_request` (§4.1.2.1, §5.2), so such a value
 * never reaches a database query, a log line or a stored payload. The form body is read once here
 * and handed on (see read-body.ts, form-peek.ts).
 */
export function inputGuard(options: InputGuardOptions): Middleware {
  function refuse(ctx: Context, problem: string): void {
    ctx.set('Cache-Control', 'no-store');
    if (options.isPage(ctx)) {
      sendPage(ctx, options.assets, {
        view: 'error',
        title: 'Invalid request',
        status: 400,
        values: {
          heading: 'Invalid request',
          message: 'This address or form holds characters that are not allowed. Go back to the app and start again.',
          detail: errorMessage(problem.charAt(0).toUpperCase() + problem.slice(1)),
        },
      });
    } else {
      sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', problem));
    }
  }

  // Synchronous unless there is a body to read: most requests pass with two regular expressions.
  return (ctx, next) => {
    // A request target with no absolute path ("//host…", "*") gives Koa no path at all (ctx.path is
    // null): nothing behind this serves one, and every later check assumes a path.
    if (typeof ctx.path !== 'string' || !ctx.path.startsWith('/')) {
      sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', 'the request target is not an absolute path'));
      return undefined;
    }
    const problem = problemInPath(ctx.path) ?? (ctx.querystring ? problemInForm(ctx.querystring, 'query') : undefined);
    if (problem) return refuse(ctx, problem);
    if (!isFormPost(ctx)) return next();
    return problemInBody(ctx).then((bodyProblem) => (bodyProblem ? refuse(ctx, bodyProblem) : next()));
  };
}
