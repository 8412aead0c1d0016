import Koa from 'koa';
import Router from '@koa/router';
import { apiToJson } from '../apis/api.js';
import type { ApiService } from '../apis/api-service.js';
import { clientToJson } from '../clients/client.js';
import type { ClientService } from '../clients/client-service.js';
import type { KeyRing } from '../keys/key-ring.js';
import { asBody, optionalBoolean, rejectUnknownFields } from '../lib/validate.js';
import { userToJson } from '../users/user.js';
import type { UserService } from '../users/user-service.js';
import { TollgateError } from '../lib/errors.js';
import type { Logger } from '../log.js';
import { errorBoundary } from '../http/error-boundary.js';
import { sendErrorResponse } from '../http/error-response.js';
import { requestLog } from '../http/request-log.js';
import { adminTokenMatches } from './admin-bearer.js';
import { readJsonBody } from './json-body.js';
import { adminUrlGuard } from './url-guard.js';
import { ADMIN_TOKEN_LOCATION } from '../lib/admin-defaults.js';

export interface AdminDependencies {
  adminToken: string;
  apis: ApiService;
  clients: ClientService;
  users: UserService;
  keyRing: KeyRing;
  /** Rotates the ring and starts signing with it on this instance at once. */
  rotateKeys(force: boolean): Promise<void>;
  /** Withdraws a key (and replaces it) and stops signing with it on this instance at once; the kids withdrawn. */
  revokeKey(kid: string): Promise<string[]>;
  logger: Logger;
}

/**
 * Turns thrown TollgateErrors into JSON; the error boundary judges anything else (400, 503 or a
 * bare 500). The admin API is no OAuth endpoint: its descriptions stay as written (they quote
 * names with `"` for the CLI to show).
 */
const jsonErrors: Koa.Middleware = async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body == null) {
      throw new TollgateError(404, 'not_found', `no admin route ${ctx.method} ${ctx.path}`);
    } else if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
      // The router answers a method it knows nowhere (PROPFIND) with 501; for a client it is the
      // same mistake as any other method the route lacks, and bad input is never a 5xx.
      throw new TollgateError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow')})`);
    }
  } catch (error) {
    if (!(error instanceof TollgateError)) throw error;
    sendErrorResponse(ctx, error, { description: 'as-written' });
  }
};

function bearerAuth(adminToken: string): Koa.Middleware {
  return async (ctx, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'));
    if (!match?.[1] || !adminTokenMatches(match[1], adminToken)) {
      throw new TollgateError(401, 'unauthorized', `the admin API needs the admin token as a bearer token (ADMIN_TOKEN, or ${ADMIN_TOKEN_LOCATION})`, {
        headers: { 'WWW-Authenticate': 'Bearer realm="tollgate-admin"' },
      });
    }
    await next();
  };
}

function routes(deps: AdminDependencies): Router {
  const router = new Router();
  const { apis, clients, users, keyRing } = deps;

  router.get('/apis', async (ctx) => { ctx.body = (await apis.list()).map(apiToJson); });
  router.post('/apis', async (ctx) => {
    ctx.status = 201;
    ctx.body = apiToJson(await apis.create(await readJsonBody(ctx)));
  });
  router.get('/apis/:id', async (ctx) => { ctx.body = apiToJson(await apis.show(ctx.params.id!)); });
  router.patch('/apis/:id', async (ctx) => { ctx.body = apiToJson(await apis.update(ctx.params.id!, await readJsonBody(ctx))); });
  router.delete('/apis/:id', async (ctx) => { ctx.body = apiToJson(await apis.delete(ctx.params.id!)); });

  router.get('/clients', async (ctx) => { ctx.body = (await clients.list()).map(clientToJson); });
  router.post('/clients', async (ctx) => {
    const { client, secret } = await clients.create(await readJsonBody(ctx));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...clientToJson(client), ...(secret ? { client_secret: secret } : {}) };
  });
  router.get('/clients/:id', async (ctx) => { ctx.body = clientToJson(await clients.show(ctx.params.id!)); });
  router.patch('/clients/:id', async (ctx) => { ctx.body = clientToJson(await clients.update(ctx.params.id!, await readJsonBody(ctx))); });
  router.delete('/clients/:id', async (ctx) => { ctx.body = clientToJson(await clients.delete(ctx.params.id!)); });
  router.post('/clients/:id/rotate-secret', async (ctx) => {
    const { client, secret } = await clients.rotateSecret(ctx.params.id!);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...clientToJson(client), client_secret: secret };
  });

  router.get('/users', async (ctx) => { ctx.body = (await users.list()).map(userToJson); });
  router.post('/users', async (ctx) => {
    ctx.status = 201;
    ctx.body = userToJson(await users.create(await readJsonBody(ctx)));
  });
  router.get('/users/:id', async (ctx) => { ctx.body = userToJson(await users.show(ctx.params.id!)); });
  router.patch('/users/:id', async (ctx) => { ctx.body = userToJson(await users.update(ctx.params.id!, await readJsonBody(ctx))); });
  router.put('/users/:id/password', async (ctx) => { ctx.body = userToJson(await users.setPassword(ctx.params.id!, await readJsonBody(ctx))); });
  router.delete('/users/:id', async (ctx) => { ctx.body = userToJson(await users.delete(ctx.params.id!)); });

  router.get('/keys', (ctx) => { ctx.body = keyRing.list(); });
  router.post('/keys/rotate', async (ctx) => {
    const body = asBody(await readJsonBody(ctx));
    rejectUnknownFields(body, ['force']);
    // Too early: RotationTooEarlyError, a 409 with the time it becomes possible, answered by jsonErrors.
    await deps.rotateKeys(optionalBoolean(body, 'force') ?? false);
    ctx.body = keyRing.list();
  });
  router.post('/keys/:kid/revoke', async (ctx) => {
    const revoked = await deps.revokeKey(ctx.params.kid!);
    ctx.body = { revoked, keys: keyRing.list() };
  });
  return router;
}

/** The admin listener: request log → error boundary → JSON errors → bearer token → URL guard → routes. */
export function createAdminApp(deps: AdminDependencies): Koa {
  const app = new Koa();
  app.silent = true;
  const router = routes(deps);
  app.use(requestLog(deps.logger));
  app.use(errorBoundary({ logger: deps.logger }));
  app.use(jsonErrors);
  app.use(bearerAuth(deps.adminToken));
  app.use(adminUrlGuard);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  return app;
}
