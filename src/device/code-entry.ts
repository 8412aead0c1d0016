import type { Middleware } from 'koa';
import { gated } from '../http/path-gate.js';
import type { AttemptThrottle } from '../interactions/attempt-throttle.js';
import { SafeHtml, sendPage } from '../interactions/page.js';

/**
 * In front of oidc-provider's /device page:
 * - verification_uri_complete (GET /device?user_code=…) pre-fills the form instead of
 *   auto-submitting it (oidc-provider would post it with a script, which the pages' CSP forbids,
 *   and a person should see the code before sending it);
 * - wrong codes are counted per IP, and a guessing IP is slowed down (RFC 8628 §5.1).
 */
export function deviceCodeEntry(options: { path: string; assets: string; throttle: AttemptThrottle }): Middleware {
  return gated((ctx) => ctx.path === options.path, async (ctx, next) => {
    if (ctx.method === 'GET' && typeof ctx.query.user_code === 'string') {
      (ctx.state as { prefillUserCode?: string }).prefillUserCode = ctx.query.user_code.slice(0, 32);
      const { user_code: _prefill, ...rest } = ctx.query;
      ctx.query = rest;
      return next();
    }
    if (ctx.method !== 'POST') return next();
    const subject = [{ kind: 'device' as const, value: ctx.ip }];
    const wait = await options.throttle.waitSeconds(subject);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      sendPage(ctx, options.assets, {
        view: 'error',
        title: 'Too many attempts',
        status: 429,
        values: {
          heading: 'Too many attempts',
          message: `Too many wrong codes were entered from here. Try again in ${wait} second${wait === 1 ? '' : 's'}.`,
          detail: new SafeHtml(`    <p><a href="${options.path}">Enter a code</a></p>`),
        },
      });
      return undefined;
    }
    await next();
    if ((ctx.state as { deviceCodeRejected?: boolean }).deviceCodeRejected) await options.throttle.recordFailure(subject);
    return undefined;
  });
}
