import type { Middleware } from 'koa';
import { DEVICE_CODE_GRANT } from '../clients/grant-types.js';
import { peekForm } from '../http/form-peek.js';
import type { DevicePolls } from './device-polls.js';


/**
 * What oidc-provider leaves out of RFC 8628: the `interval` in the device authorization
 * response (§3.2), and `slow_down` for a device that polls the token endpoint faster than that
 * (§3.5), growing its interval by 5 s each time.
 */
export function devicePolling(options: { tokenPath: string; deviceAuthorizationPath: string; interval: number; polls: DevicePolls }): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    if (ctx.path === options.deviceAuthorizationPath) {
      await next();
      if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
        ctx.body = { ...(ctx.body as Record<string, unknown>), interval: options.interval };
      }
      return undefined;
    }
    if (ctx.path !== options.tokenPath || !ctx.is('application/x-www-form-urlencoded')) return next();
    const params = await peekForm(ctx);
    if (!params) return undefined;
    const deviceCode = params.get('device_code');
    if (params.get('grant_type') === DEVICE_CODE_GRANT && deviceCode && params.getAll('device_code').length === 1) {
      const verdict = await options.polls.record(deviceCode);
      if (verdict.tooFast) {
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'slow_down', error_description: `polling too fast: wait at least ${verdict.intervalSeconds} seconds between requests`, interval: verdict.intervalSeconds };
        return undefined;
      }
    }
    return next();
  };
}
