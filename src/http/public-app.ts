import Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { Knex } from 'knex';
import type { Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Logger } from '../log.js';
import { health } from './health.js';
import { issuerPath, issuerRouting } from './issuer-routing.js';
import { requestLog } from './request-log.js';
import { securityHeaders } from './security-headers.js';

/** JWKS responses may be cached by verifiers for JWKS_MAX_AGE; the key ring plans around it. */
function jwksCaching(maxAge: number): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const route = (ctx as { oidc?: { route?: string } }).oidc?.route;
    if (route === 'jwks' && ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${maxAge}`);
  };
}

/** The public listener: security headers → request log → health → oidc-provider. */
export function createPublicApp(deps: { config: Config; provider: Provider; db: Knex; keyRing: KeyRing; logger: Logger }): Koa {
  const app = new Koa();
  app.proxy = deps.config.trustProxy;
  app.silent = true;
  app.use(securityHeaders());
  app.use(requestLog(deps.logger));
  app.use(health(deps.db, deps.keyRing));
  app.use(issuerRouting(deps.config.issuer));
  app.use(jwksCaching(deps.config.jwksMaxAge));
  app.use(mount(issuerPath(deps.config.issuer) || '/', deps.provider as unknown as Koa));
  return app;
}
