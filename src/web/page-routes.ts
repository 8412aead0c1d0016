import type { Context } from 'koa';
import { isBelow, type Paths } from './paths.js';

/**
 * Whether a path under the issuer is one a person's browser visits — authorization and its
 * resumption, the sign-in and consent interaction, the device pages, sign-out — so that bad input
 * or an outage there is answered with a readable page; every other endpoint answers RFC 6749 JSON.
 */
export function pageRoutes(paths: Paths): (ctx: Pick<Context, 'path'>) => boolean {
  const { authorization, device, deviceAuthorization, interaction, endSession } = paths;
  // `path` is null for a request target Koa cannot parse: not a page.
  return ({ path }) =>
    typeof path === 'string' &&
    (path === authorization ||
      isBelow(path, authorization) ||
      path === device ||
      (isBelow(path, device) && path !== deviceAuthorization) ||
      isBelow(path, interaction) ||
      path === endSession ||
      isBelow(path, endSession));
}
