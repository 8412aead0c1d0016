import type { Middleware } from 'koa';
import { gated } from '../../web/path-gate.js';
import type { Paths } from '../../web/paths.js';
import { requestState } from '../../web/request-state.js';
import { deviceCodeSubjects, type AttemptThrottle } from '../interactions/attempt-throttle.js';
import { sendDeviceErrorPage } from './device-error-page.js';

/**
 * In front of oidc-provider's /device page:
 * - verification_uri_complete (GET /device?user_code=…) pre-fills the form instead of
 *   auto-submitting it (oidc-provider would post it with a script, which the pages' CSP forbids,
 *   and a person should see the code before sending it);
 * - code entries are counted per client address before the code is checked, and an address
 *   that entered too many wrong codes is refused for a while (RFC 8628 §5.1).
 */
export function deviceCodeEntry(options: {
  paths: Pick<Paths, 'device' | 'assets'>;
  throttle: AttemptThrottle;
}): Middleware {
  const { device: codePage, assets } = options.paths;
  return gated(
    (ctx) => ctx.path === codePage,
    async (ctx, next) => {
      if (ctx.method === 'GET' && typeof ctx.query.user_code === 'string') {
        requestState(ctx).prefillUserCode = ctx.query.user_code.slice(0, 32);
        const { user_code: _prefill, ...rest } = ctx.query;
        ctx.query = rest;
        return next();
      }
      if (ctx.method !== 'POST') return next();
      // Counted before oidc-provider checks the code (reserve, then verify): see attempt-throttle.ts.
      const reserved = await options.throttle.reserve(deviceCodeSubjects(ctx.ip));
      if (!reserved.allowed) {
        ctx.set('Retry-After', String(reserved.retryAfterSeconds));
        sendDeviceErrorPage(ctx, {
          assets,
          codePage,
          status: 429,
          title: 'Too many attempts',
          heading: 'Too many attempts',
          message: 'Too many wrong codes were entered from here. Please try again later.',
        });
        return undefined;
      }
      let rejected = false;
      try {
        await next();
        rejected = !!requestState(ctx).deviceCodeRejected;
      } finally {
        // Only a wrong code keeps its reservation; a valid one, an empty form or an error gives it back.
        if (!rejected) await options.throttle.release(reserved.reservations);
      }
      return undefined;
    },
  );
}
