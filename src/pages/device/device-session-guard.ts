import type { Context, Middleware } from 'koa';
import { sendErrorResponse } from '../../web/error-response.js';
import { TollgateError } from '../../lib/errors.js';
import { sendDeviceErrorPage } from './device-error-page.js';
import type { Paths } from '../../web/paths.js';
import type { ProviderHost } from '../../oidc/provider-host.js';
import { sessionOf } from '../../oidc-provider/internals.js';

/**
 * Two holes in oidc-provider's device pages, closed in front of it:
 * - GET on the device authorization endpoint matched the device page's `/device/:uid` route and
 *   failed with a 500; RFC 8628 §3.1 makes that endpoint POST only: 405 with `Allow: POST`.
 * - The code form (POST /device) and the return from sign-in (GET /device/:uid) need the session
 *   the code page started: without it (no cookie, or one whose session has expired) any error
 *   there made oidc-provider persist a session it never saved ("persist can only be called on
 *   previously persisted Sessions", a 500). Such a request gets a page that starts again instead.
 */
export function deviceSessionGuard(options: {
  paths: Pick<Paths, 'device' | 'deviceAuthorization' | 'assets'>;
  providers: ProviderHost;
}): Middleware {
  const { device: codePage, deviceAuthorization: authorization, assets } = options.paths;
  /** oidc-provider's `/device/:uid`: one non-empty segment after the code page. */
  const isResumePage = (path: string) =>
    path.startsWith(`${codePage}/`) && /^[^/]+$/.test(path.slice(codePage.length + 1));

  async function hasSavedSession(ctx: Context): Promise<boolean> {
    const session = await sessionOf(options.providers.current, ctx);
    return typeof session.exp === 'number';
  }

  return (ctx, next) => {
    if (ctx.path === authorization) {
      if (ctx.method === 'POST' || ctx.method === 'OPTIONS') return next();
      sendErrorResponse(
        ctx,
        new TollgateError(
          405,
          'invalid_request',
          'the device authorization endpoint accepts POST only (RFC 8628 section 3.1)',
          { headers: { Allow: 'POST' } },
        ),
      );
      return undefined;
    }
    const needsSession =
      (ctx.method === 'POST' && ctx.path === codePage) ||
      ((ctx.method === 'GET' || ctx.method === 'HEAD') && isResumePage(ctx.path));
    if (!needsSession) return next();
    return hasSavedSession(ctx).then((saved) => {
      if (saved) return next();
      sendDeviceErrorPage(ctx, {
        assets,
        codePage,
        status: 400,
        title: 'Start again',
        heading: 'This page has expired',
        message:
          'Your visit to this page timed out or was not started here. Enter the code shown on your device again.',
      });
      return undefined;
    });
  };
}
