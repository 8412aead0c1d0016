import Koa from 'koa';
import type { Knex } from 'knex';
import type Router from '@koa/router';
import { impliedConsentForOfflineAccess } from '../oidc/offline-access.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import type { Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { trustProxyHops } from '../web/client-address.js';
import { deviceSessionGuard } from '../pages/device/device-session-guard.js';
import { errorBoundary } from './error-boundary.js';
import { health } from './health.js';
import { inputGuard } from './input-guard.js';
import { issuerRouting } from '../web/issuer-routing.js';
import { pageRoutes } from '../web/page-routes.js';
import { gated } from '../web/path-gate.js';
import { isBelow, type Paths } from '../web/paths.js';
import { requestLog } from './request-log.js';
import { secureCookiesForHttpsIssuer, securityHeaders } from './security-headers.js';
import { stylesheet } from '../web/views.js';
import { sha256Base64url } from '../lib/sha256.js';
import { answerAsIssuer, providerRequestOf } from '../oidc-provider/internals.js';

/**
 * JWKS responses may be cached by verifiers for JWKS_MAX_AGE (the key ring plans rotations
 * around it), and revalidated cheaply: an ETag of the key set, 304 when it is unchanged.
 */
function jwksCaching(path: string, maxAge: number, metrics: Metrics): Koa.Middleware {
  // oidc-provider answers with the same `keys` array until the Provider is rebuilt: hash it once.
  const etags = new WeakMap<object, string>();
  return gated(
    (ctx) => ctx.path === path,
    async (ctx, next) => {
      await next();
      const route = providerRequestOf(ctx)?.route;
      if (route !== 'jwks' || ctx.status !== 200) return;
      ctx.set('Cache-Control', `public, max-age=${maxAge}`);
      const keys = (ctx.body as { keys?: object }).keys ?? (ctx.body as object);
      let etag = etags.get(keys);
      if (!etag) {
        etag = sha256Base64url(JSON.stringify(ctx.body)).slice(0, 27);
        etags.set(keys, etag);
      }
      ctx.etag = etag;
      if (ctx.fresh) {
        metrics.jwksNotModified.inc();
        ctx.status = 304;
        ctx.body = null;
      }
    },
  );
}

/** The one stylesheet every page uses, cached by browsers for an hour. */
function stylesheetRoute(path: string): Koa.Middleware {
  const css = stylesheet();
  return (ctx, next) => {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
    return undefined;
  };
}

export interface PublicAppDependencies {
  config: Config;
  paths: Paths;
  providers: ProviderHost;
  /** oidc-provider's cookie keys: mounted, it signs cookies through this app's context. */
  cookieKeys: string[];
  db: Knex;
  keyRing: KeyRing;
  logger: Logger;
  interactions: Router;
  /** Tollgate's own protocol additions in front of oidc-provider (introspection, device flow). */
  protocolExtras: Koa.Middleware[];
  metrics: Metrics;
}

/** The public listener's own paths outside any router, by the route name their metrics carry. */
const NAMED_PATHS = new Map([
  ['/healthz', 'healthz'],
  ['/readyz', 'readyz'],
]);

/**
 * The public listener: security headers → request log → error boundary → input guard → health →
 * issuer routing → pages (stylesheet, login/consent) → device session guard → protocol extras →
 * oidc-provider. docs/endpoints.md tells, per endpoint, which of these act on it and in what order.
 */
export function createPublicApp(deps: PublicAppDependencies): Koa {
  const { paths } = deps;
  const app = new Koa();
  trustProxyHops(app, deps.config.trustProxy);
  app.silent = true;
  // Mounted, oidc-provider runs on this app's context: its signed cookies need its keys here.
  app.keys = deps.cookieKeys;
  secureCookiesForHttpsIssuer(app, deps.config.issuer);
  app.use(securityHeaders());
  app.use(
    requestLog(deps.logger, {
      metrics: deps.metrics,
      namedPaths: new Map([
        ...NAMED_PATHS,
        [paths.stylesheet, 'stylesheet'],
        [paths.apiKeyVerification, 'api_key_verification'],
        [paths.signatureKeyLookup, 'signature_key_lookup'],
        [paths.signatureVerification, 'signature_verification'],
      ]),
    }),
  );
  answerAsIssuer(app, deps.config.issuer);
  const isPage = pageRoutes(paths);
  app.use(errorBoundary({ logger: deps.logger, page: { isPage, assets: paths.assets }, rfc6749Descriptions: true }));
  app.use(inputGuard({ isPage, assets: paths.assets }));
  app.use(health(deps.db, deps.keyRing));
  app.use(issuerRouting(paths));
  app.use(jwksCaching(paths.jwks, deps.config.jwksMaxAge, deps.metrics));
  app.use(stylesheetRoute(paths.stylesheet));
  // The router would match every request against its routes; only its own paths need it.
  const interactionRoutes = deps.interactions.routes();
  app.use((ctx, next) =>
    isBelow(ctx.path, paths.interaction)
      ? interactionRoutes(ctx as Parameters<typeof interactionRoutes>[0], next)
      : next(),
  );
  app.use(impliedConsentForOfflineAccess(paths.authorization));
  app.use(deviceSessionGuard({ paths, providers: deps.providers }));
  for (const extra of deps.protocolExtras) app.use(extra);
  app.use(deps.providers.middleware());
  return app;
}
