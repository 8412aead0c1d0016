import type { Context, Middleware } from 'koa';
import { classifyDatabaseError, failureKind, type DatabaseFailure } from '../db/database-errors.js';
import { sendPage } from '../web/page.js';
import type { Logger } from '../log.js';
import { TollgateError, type ErrorCode } from '../lib/errors.js';
import { RepeatedLog } from '../lib/repeated-log.js';
import { conformErrorBody, sendErrorResponse } from '../web/error-response.js';
import { html } from '../web/html.js';

/** Seconds a client is told to wait while the database is away (RFC 9110 §10.2.3). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * oidc-provider answers its own failures (a 500 `server_error`, or a redirect carrying it) and
 * only reports the error through its 'server_error' event, with the request's context. The event
 * handler leaves the error here for the boundary of that same request to judge and log.
 */
const providerErrors = new WeakMap<object, unknown>();

export function noteProviderServerError(ctx: object, error: unknown): void {
  providerErrors.set(ctx, error);
}

interface Answer {
  status: number;
  error: ErrorCode;
  description: string;
  heading: string;
  message: string;
}

const ANSWERS: Record<DatabaseFailure | 'internal', Answer> = {
  bad_input: {
    status: 400,
    error: 'invalid_request',
    description: 'the request holds a value that cannot be accepted',
    heading: 'Invalid request',
    message: 'This request holds a value that cannot be accepted. Go back to the app and start again.',
  },
  unavailable: {
    status: 503,
    // RFC 6749 §4.1.2.1 names this error for a server that is temporarily unable to answer.
    error: 'temporarily_unavailable',
    description: `the service is temporarily unavailable; retry in ${RETRY_AFTER_SECONDS} seconds`,
    heading: 'Temporarily unavailable',
    message: 'The service is temporarily unavailable. Try again in a few seconds.',
  },
  internal: {
    status: 500,
    error: 'server_error',
    description: 'an unexpected error occurred',
    heading: 'Something went wrong',
    message: 'Something went wrong on our side. Try again later.',
  },
};

export interface ErrorBoundaryOptions {
  logger: Logger;
  /** Pages answer failures with a page; undefined (the admin API) means always JSON. */
  page?: { isPage(ctx: Context): boolean; assets: string };
  /** Keep every error_description within RFC 6749 §5.2's characters (the OAuth endpoints). */
  rfc6749Descriptions?: boolean;
}

/**
 * Every failure of a request ends here, thrown or answered by oidc-provider: a database that
 * refused the request's input is a 400 (the input guard should have stopped it first), a database
 * that cannot be reached a 503 with Retry-After, anything else a bare 500 — never a stack trace in
 * the response, and at most one error line per kind of failure per 10 s in the log.
 */
export function errorBoundary(options: ErrorBoundaryOptions): Middleware {
  const errorLog = new RepeatedLog(options.logger);
  const descriptions = { description: options.rfc6749Descriptions ? 'rfc6749' : 'as-written' } as const;

  function report(ctx: Context, error: unknown, failure: DatabaseFailure | undefined): void {
    if (failure === 'bad_input') return; // the caller's mistake, answered with a 400: not an error of ours
    const err = error as Error;
    const where = { method: ctx.method, path: ctx.path };
    // An outage is not a bug: its message says enough, a stack per kind would only be noise.
    if (failure === 'unavailable')
      errorLog.error(
        `database unavailable: ${failureKind(error)}`,
        { ...where, error: { type: err?.name, message: err?.message } },
        'database unavailable',
      );
    else
      errorLog.error(
        `request failed: ${failureKind(error)}`,
        { ...where, err: { type: err?.name, message: err?.message, stack: err?.stack } },
        'request failed',
      );
  }

  function answer(ctx: Context, failure: DatabaseFailure | undefined): void {
    const chosen = ANSWERS[failure ?? 'internal'];
    if (failure === 'unavailable') ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.set('Cache-Control', 'no-store');
    if (options.page && (options.page.isPage(ctx) || ctx.response.is('html'))) {
      sendPage(ctx, options.page.assets, {
        view: 'error',
        title: chosen.heading,
        status: chosen.status,
        values: { heading: chosen.heading, message: chosen.message, detail: html`` },
      });
      return;
    }
    sendErrorResponse(ctx, new TollgateError(chosen.status, chosen.error, chosen.description), descriptions);
  }

  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { status, expose, message } = error as { status?: number; expose?: boolean; message?: string };
      if (status && status < 500 && expose) {
        // Koa's own HTTP errors (ctx.throw, a malformed cookie or URL): the caller's mistake.
        sendErrorResponse(ctx, new TollgateError(status, 'invalid_request', message ?? ''), descriptions);
        return;
      }
      const failure = classifyDatabaseError(error);
      report(ctx, error, failure);
      answer(ctx, failure);
      return;
    }
    if (options.rfc6749Descriptions) conformErrorBody(ctx);
    const handled = providerErrors.get(ctx);
    if (handled === undefined) return;
    const failure = classifyDatabaseError(handled);
    report(ctx, handled, failure);
    if (ctx.status >= 500) answer(ctx, failure);
  };
}
