/**
 * Tollgate's one error model for answers to callers: a class with the HTTP `status`, a `code` from
 * a closed union (callers `switch (error.code)`, as with jose's JOSEError and the resource-server
 * package's errors) and the headers that go with it. src/web/error-response.ts writes it: the
 * one place that turns it into a response, body and headers.
 *
 * Not in this model, on purpose:
 * - ConfigError (src/config.ts) and the other start-up errors (a locked DATA_DIR, a missing
 *   key-encryption key): they stop the process with a one-line message and never reach a caller.
 * - oidc-provider's own errors: it answers them itself; the error boundary only conforms their
 *   error_description (src/web/error-response.ts, conformErrorBody).
 * - Internal failures (bugs, a database outage): the error boundary judges them (400, 503 or a bare 500).
 */

/**
 * The OAuth 2.0 error codes Tollgate itself writes on its public endpoints: RFC 6749 §4.1.2.1 and
 * §5.2, RFC 8707 §2 (invalid_target) and RFC 8628 §3.5 (slow_down). The others oidc-provider
 * answers (authorization_pending, expired_token, invalid_dpop_proof, …) are its own.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'slow_down';

/** The admin API's codes besides invalid_request (which it shares, for 400, 413 and 415). */
export type AdminErrorCode = 'unauthorized' | 'not_found' | 'method_not_allowed' | 'conflict' | 'rotation_too_early';

export type ErrorCode = OAuthErrorCode | AdminErrorCode;

export interface TollgateErrorOptions {
  /** Response headers that belong to the error: Retry-After, WWW-Authenticate, Allow. */
  headers?: Readonly<Record<string, string>>;
  /** JSON body members after error and error_description (slow_down's `interval`, …). */
  extraFields?: Readonly<Record<string, unknown>>;
  cause?: unknown;
}

/** `instanceof TollgateError` tells an answer meant for the caller from a bug. */
export class TollgateError extends Error {
  readonly headers: Readonly<Record<string, string>>;
  readonly extraFields: Readonly<Record<string, unknown>>;

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    /** What the caller reads as error_description, so it names nothing internal. */
    readonly description: string,
    options: TollgateErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.headers = options.headers ?? {};
    this.extraFields = options.extraFields ?? {};
  }
}

export class ValidationError extends TollgateError {
  constructor(message: string) {
    super(400, 'invalid_request', message);
  }
}

export class NotFoundError extends TollgateError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends TollgateError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** PostgreSQL's unique_violation, as raised by both pg and PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
