import type { Context, Middleware } from 'koa';
import { TollgateError } from '../lib/errors.js';
import type { Logger } from '../log.js';
import { providerContext } from '../web/request-state.js';
import { sendErrorResponse } from '../web/error-response.js';
import { OTHER, type Metrics } from '../metrics/metrics.js';

/** Where request durations go, and the names of the app's own paths outside any router. */
export interface RequestMetrics {
  metrics: Metrics;
  namedPaths?: ReadonlyMap<string, string>;
}

/**
 * A bounded route label: oidc-provider's route name, the koa-router route's name or pattern, one
 * of the app's named paths, or `other` — never the raw path, which a client chooses freely.
 */
function routeLabel(ctx: Context, namedPaths: ReadonlyMap<string, string> | undefined): string {
  const matched = ctx as Context & { _matchedRouteName?: string; _matchedRoute?: string | RegExp };
  return (
    providerContext(ctx)?.route ??
    matched._matchedRouteName ??
    (typeof matched._matchedRoute === 'string' ? matched._matchedRoute : undefined) ??
    namedPaths?.get(ctx.path) ??
    OTHER
  );
}

/**
 * One line per request: method, route, status, duration and client. Deliberately no query
 * string, headers or body — that is where codes, tokens, secrets and cookies travel.
 * Also the last line of defence for errors: an unexpected one becomes a bare 500 JSON answer,
 * with the details in the log and none in the response. With metrics, each request's duration
 * is observed by route name and status.
 */
export function requestLog(logger: Logger, recorded?: RequestMetrics): Middleware {
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
      // One histogram observation per request: the only metrics cost on the token path.
      if (recorded) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        recorded.metrics.observeRequest(routeLabel(ctx, recorded.namedPaths), ctx.status, seconds);
      }
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
