import type { Middleware } from 'koa';
import { TollgateError } from '../lib/errors.js';
import type { Logger } from '../log.js';
import { providerContext } from '../web/request-state.js';
import { sendErrorResponse } from '../web/error-response.js';

/**
 * One line per request: method, route, status, duration and client. Deliberately no query
 * string, headers or body — that is where codes, tokens, secrets and cookies travel.
 * Also the last line of defence for errors: an unexpected one becomes a bare 500 JSON answer,
 * with the details in the log and none in the response.
 */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status < 500 && (error as { expose?: boolean }).expose) {
        sendErrorResponse(ctx, new TollgateError(status, 'invalid_request', (error as Error).message));
      } else {
        sendErrorResponse(ctx, new TollgateError(500, 'server_error', 'an unexpected error occurred'));
      }
    } finally {
      if (failure || logger.isLevelEnabled('info')) logLine();
    }

    function logLine() {
      const oidc = providerContext(ctx);
      const line = {
        method: ctx.method,
        route: oidc?.route ?? ctx.path,
        status: ctx.status,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        client_id: oidc?.client?.clientId,
        ip: ctx.ip,
      };
      if (failure && ctx.status >= 500) {
        const error = failure as Error;
        logger.error(
          { ...line, err: { type: error.name, message: error.message, stack: error.stack } },
          'request failed',
        );
      } else {
        logger.info(line, 'request');
      }
    }
  };
}
