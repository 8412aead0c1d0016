import type { Context } from 'koa';

/**
 * Whether a path under the issuer is one a person's browser visits — authorization and its
 * resumption, the sign-in and consent interaction, the device pages, sign-out — so that bad input
 * or an outage there is answered with a readable page; every other endpoint answers RFC 6749 JSON.
 * The paths are oidc-provider's defaults, which Tollgate keeps (src/oidc/provider.ts sets none).
 */
export function pageRoutes(prefix: string): (ctx: Pick<Context, 'path'>) => boolean {
  const auth = `${prefix}/auth`;
  const device = `${prefix}/device`;
  const deviceAuthorization = `${prefix}/device/auth`;
  const interaction = `${prefix}/interaction/`;
  const endSession = `${prefix}/session/end`;
  // `path` is null for a request target Koa cannot parse: not a page.
  return ({ path }) => typeof path === 'string' && (path === auth || path.startsWith(`${auth}/`)
    || (path === device || (path.startsWith(`${device}/`) && path !== deviceAuthorization))
    || path.startsWith(interaction)
    || path === endSession || path.startsWith(`${endSession}/`));
}
