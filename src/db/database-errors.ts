/**
 * What a failed database call means for the request that made it:
 * - 'bad_input': PostgreSQL refused a value the request carried (SQLSTATE class 22 "data
 *   exception": 22021 a NUL or bad byte in text, 22P05 `\u0000` in jsonb, 22P02 a malformed
 *   value; 54000 a value too large to index). The caller's fault: 400, never 500.
 * - 'unavailable': the database cannot be reached or is not answering — class 08 (connection
 *   exception), 57P01-57P03 (shutdown, cannot connect now), 57014 (statement timeout), 53300 (too
 *   many connections), refused or reset sockets, the pool's acquire timeout, pg's own timeouts.
 *   Temporary: 503 with Retry-After, and it must not flood the log.
 * - undefined: anything else (a bug): 500.
 */
export type DatabaseFailure = 'bad_input' | 'unavailable';

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300']);
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/**
 * pg reports some connection failures without a code, only in words (pg/lib/client.js: "timeout
 * expired" is its connect timeout, "Query read timeout" its query timeout); knex names its pool's
 * acquire timeout by class (KnexTimeoutError).
 */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|^timeout expired$|connection timeout|Query read timeout|timeout exceeded when trying to connect|is not queryable|Connection ended unexpectedly|Timeout acquiring a connection/i;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * The error and what it wraps, outermost first: oidc-provider's `cause`, the first of an
 * AggregateError's `errors` (a dual-stack connect); a few levels at most.
 */
function* wrapped(error: unknown): Generator<ErrorLike> {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    yield current as ErrorLike;
    const { errors, cause } = current as ErrorLike;
    current = Array.isArray(errors) && errors.length ? errors[0] : cause;
  }
}

export function classifyDatabaseError(error: unknown): DatabaseFailure | undefined {
  for (const layer of wrapped(error)) {
    const found = classifyOne(layer);
    if (found) return found;
  }
  return undefined;
}

function classifyOne(error: ErrorLike): DatabaseFailure | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  if (/^22[0-9A-Z]{3}$/.test(code) || code === '54000') return 'bad_input';
  if (code.startsWith('08') && code.length === 5) return 'unavailable';
  if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return 'unavailable';
  if (error.name === 'KnexTimeoutError') return 'unavailable';
  if (typeof error.message === 'string' && UNAVAILABLE_MESSAGES.test(error.message)) return 'unavailable';
  return undefined;
}

/** A short, stable name for the kind of failure, for rate-limited logging ("ECONNREFUSED", "57P01"…). */
export function failureKind(error: unknown): string {
  for (const { code, name } of wrapped(error)) {
    if (typeof code === 'string' && code) return code;
    if (name === 'KnexTimeoutError') return name;
  }
  const { name, message } = (error ?? {}) as ErrorLike;
  return `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message.slice(0, 80) : ''}`;
}
