import type { Middleware } from 'koa';
import { DEVICE_CODE_GRANT } from '../../lib/grant-types.js';
import { sendErrorResponse } from '../../web/error-response.js';
import type { Paths } from '../../web/paths.js';
import { providerRequestOf } from '../../oidc-provider/internals.js';
import { TollgateError } from '../../lib/errors.js';
import type { DevicePolls } from './device-polls.js';

/**
 * What oidc-provider leaves out of RFC 8628: the `interval` in the device authorization
 * response (§3.2), and `slow_down` for a device that polls faster than that (§3.5), growing its
 * interval by 5 s each time. Only pending polls are timed — after oidc-provider has parsed and
 * answered them, so no other token request pays for this.
 */
export function devicePolling(options: {
  paths: Pick<Paths, 'token' | 'deviceAuthorization'>;
  interval: number;
  polls: DevicePolls;
}): Middleware {
  const { token, deviceAuthorization } = options.paths;
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || (ctx.path !== token && ctx.path !== deviceAuthorization)) return next();
    await next();
    if (ctx.path === deviceAuthorization) {
      if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
        ctx.body = { ...(ctx.body as Record<string, unknown>), interval: options.interval };
      }
      return;
    }
    const params = providerRequestOf(ctx)?.params;
    const body = ctx.body as { error?: unknown } | undefined;
    if (params?.grant_type !== DEVICE_CODE_GRANT || typeof params.device_code !== 'string') return;
    if (ctx.status !== 400 || body?.error !== 'authorization_pending') return;
    const verdict = await options.polls.record(params.device_code);
    if (verdict.tooFast) {
      sendErrorResponse(
        ctx,
        new TollgateError(
          400,
          'slow_down',
          `polling too fast: wait at least ${verdict.intervalSeconds} seconds between requests`,
          {
            extraFields: { interval: verdict.intervalSeconds },
          },
        ),
      );
    }
  };
}
