import fs from 'node:fs';
import path from 'node:path';
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import { apiToJson } from '../apis/api.js';
import type { ApiService } from '../apis/api-service.js';
import { apiKeyToJson } from '../api-keys/api-key.js';
import type { ApiKeyService, DescribedApiKey, IssuedApiKey } from '../api-keys/api-key-service.js';
import { clientToJson } from '../clients/client.js';
import { clientKeyToJson, type ClientKey } from '../clients/client-key.js';
import type { ClientKeyService } from '../clients/client-key-service.js';
import type { ClientService } from '../clients/client-service.js';
import type { KeyRing, KeyRotation } from '../keys/key-ring.js';
import { adminActor } from '../audit/actors.js';
import { auditEntryToJson, type AuditType } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import { changedFields } from '../audit/changes.js';
import { adminOpenApiDocument, adminRoutes, type AdminRoute } from '../contract/index.js';
import { userToJson } from '../users/user.js';
import type { UserService } from '../users/user-service.js';
import { TollgateError } from '../lib/errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { errorBoundary } from '../http/error-boundary.js';
import { sendErrorResponse } from '../web/error-response.js';
import { requestLog } from '../http/request-log.js';
import { adminTokenMatches } from './admin-bearer.js';
import { guardedRoute, type GuardedInput } from './route-guard.js';
import { adminUrlGuard } from './url-guard.js';
import { ADMIN_TOKEN_LOCATION } from '../lib/admin-defaults.js';
import { projectRoot } from '../lib/project-root.js';

export interface AdminDependencies {
  adminToken: string;
  apis: ApiService;
  clients: ClientService;
  clientKeys: ClientKeyService;
  apiKeys: ApiKeyService;
  users: UserService;
  keyRing: KeyRing;
  /** Rotates the ring and starts signing with it on this instance at once. */
  rotateKeys(force: boolean): Promise<KeyRotation>;
  /** Withdraws a key (and replaces it) and stops signing with it on this instance at once; the kids withdrawn. */
  revokeKey(kid: string): Promise<string[]>;
  logger: Logger;
  metrics: Metrics;
  /** Where every change made here is recorded, with the admin credential that made it. */
  audit: AuditLog;
}

type JsonView = Record<string, unknown>;

/** A view as recorded for a thing created or deleted: what it is, without its bookkeeping times. */
function described(view: JsonView): JsonView {
  const { created_at: _created, updated_at: _updated, password_changed_at: _changed, ...rest } = view;
  return rest;
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
      throw new TollgateError(
        405,
        'method_not_allowed',
        `${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow')})`,
      );
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
      throw new TollgateError(
        401,
        'unauthorized',
        `the admin API needs the admin token as a bearer token (ADMIN_TOKEN, or ${ADMIN_TOKEN_LOCATION})`,
        {
          headers: { 'WWW-Authenticate': 'Bearer realm="tollgate-admin"' },
        },
      );
    }
    await next();
  };
}

const describedKeyToJson = ({ apiKey, audience }: DescribedApiKey) => apiKeyToJson(apiKey, audience);
/** What an audit entry says of a key: whose, what it may do, how it is recognised — never the key. */
function keyDescribed({ apiKey, audience }: DescribedApiKey): JsonView {
  const { id: _id, client_id, name, scopes, prefix, expires_at, rate_limit } = apiKeyToJson(apiKey, audience);
  return { client_id, name, scopes, prefix, expires_at, rate_limit };
}
/** The key itself right after `id`: the one answer that carries it, never to be cached. */
function issuedKey(ctx: Context, { key, ...described }: IssuedApiKey) {
  ctx.set('Cache-Control', 'no-store');
  const { id, ...rest } = describedKeyToJson(described);
  return { id, key, ...rest };
}

/** What an audit entry says of a client's key: which, of what kind — never an HMAC secret. */
function keyEntry(key: ClientKey): JsonView {
  const { created_at: _created, ...rest } = clientKeyToJson(key);
  return rest;
}

function routes(deps: AdminDependencies): Router {
  const router = new Router();
  const { apis, clients, clientKeys, apiKeys, users, keyRing } = deps;
  // One admin credential today; its fingerprint names it in every entry (never the token itself).
  const actor = adminActor(deps.adminToken);
  /** Records a change made through this route, once the service has made it. */
  const audit = (ctx: Context, type: AuditType, subject: string | null, detail: JsonView = {}) =>
    deps.audit.record({ type, actor, subject, ip: ctx.ip, detail });
  const on = <Route extends AdminRoute>(
    route: Route,
    handle: (ctx: Context, input: GuardedInput<Route>) => Promise<void> | void,
  ) => guardedRoute(router, route, handle);
  const r = adminRoutes;

  on(r.listApis, async (ctx) => {
    ctx.body = (await apis.list()).map(apiToJson);
  });
  on(r.createApi, async (ctx, { body }) => {
    const api = apiToJson(await apis.create(body));
    await audit(ctx, 'api.created', api.id, described(api));
    ctx.status = 201;
    ctx.body = api;
  });
  on(r.showApi, async (ctx, { params }) => {
    ctx.body = apiToJson(await apis.show(params.id));
  });
  on(r.updateApi, async (ctx, { params, body }) => {
    const before = apiToJson(await apis.show(params.id));
    const after = apiToJson(await apis.update(params.id, body));
    await audit(ctx, 'api.updated', after.id, { changes: changedFields(before, after) });
    ctx.body = after;
  });
  on(r.deleteApi, async (ctx, { params }) => {
    const api = apiToJson(await apis.delete(params.id));
    await audit(ctx, 'api.deleted', api.id, described(api));
    ctx.body = api;
  });

  on(r.listClients, async (ctx) => {
    ctx.body = (await clients.list()).map(clientToJson);
  });
  on(r.createClient, async (ctx, { body }) => {
    const { client, secret, firstKey } = await clients.create(body);
    const view = clientToJson(client);
    await audit(ctx, 'client.created', view.client_id, described(view));
    if (firstKey) await audit(ctx, 'client.key_added', view.client_id, keyEntry(firstKey));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...view, ...(secret ? { client_secret: secret } : {}) };
  });
  on(r.showClient, async (ctx, { params }) => {
    ctx.body = clientToJson(await clients.show(params.id));
  });
  on(r.updateClient, async (ctx, { params, body }) => {
    const before = clientToJson(await clients.show(params.id));
    const { client, secret, addedKey } = await clients.update(params.id, body);
    const after = clientToJson(client);
    const changes = changedFields(before, after);
    // Disabling or enabling a client is its own type, so `--type client.disabled` finds it; the
    // other changes of the same update are in its detail.
    const type = changes.disabled ? (after.disabled ? 'client.disabled' : 'client.enabled') : 'client.updated';
    // A switch of method shows in the changes (token_endpoint_auth_method); a secret issued by
    // it is said, never shown.
    await audit(ctx, type, after.client_id, { changes, ...(secret ? { secret_issued: true } : {}) });
    if (addedKey) await audit(ctx, 'client.key_added', after.client_id, keyEntry(addedKey));
    if (secret) ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...after, ...(secret ? { client_secret: secret } : {}) };
  });
  on(r.deleteClient, async (ctx, { params }) => {
    const client = clientToJson(await clients.delete(params.id));
    await audit(ctx, 'client.deleted', client.client_id, described(client));
    ctx.body = client;
  });
  on(r.rotateClientSecret, async (ctx, { params }) => {
    const { client, secret } = await clients.rotateSecret(params.id);
    const view = clientToJson(client);
    await audit(ctx, 'client.secret_rotated', view.client_id, { name: view.name });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...view, client_secret: secret };
  });

  on(r.listClientKeys, async (ctx, { params }) => {
    ctx.body = (await clientKeys.list(params.id)).map(clientKeyToJson);
  });
  on(r.addClientKey, async (ctx, { params, body }) => {
    const { key, secret } = await clientKeys.add(params.id, body);
    await audit(ctx, 'client.key_added', params.id, keyEntry(key));
    ctx.status = 201;
    if (secret === undefined) {
      ctx.body = clientKeyToJson(key);
    } else {
      // The one answer that carries the secret: right after alg, as the contract lists it; never cached.
      ctx.set('Cache-Control', 'no-store');
      const { keyid, alg, ...rest } = clientKeyToJson(key);
      ctx.body = { keyid, alg, secret, ...rest };
    }
  });
  on(r.removeClientKey, async (ctx, { params }) => {
    const key = await clientKeys.remove(params.id, params.keyid);
    await audit(ctx, 'client.key_removed', params.id, keyEntry(key));
    ctx.body = clientKeyToJson(key);
  });

  on(r.listApiKeys, async (ctx) => {
    ctx.body = (await apiKeys.list()).map(describedKeyToJson);
  });
  on(r.listClientApiKeys, async (ctx, { params }) => {
    ctx.body = (await apiKeys.list(params.id)).map(describedKeyToJson);
  });
  on(r.createApiKey, async (ctx, { body }) => {
    const issued = await apiKeys.create(body);
    await audit(ctx, 'api_key.created', issued.apiKey.id, keyDescribed(issued));
    ctx.status = 201;
    ctx.body = issuedKey(ctx, issued);
  });
  on(r.showApiKey, async (ctx, { params }) => {
    ctx.body = describedKeyToJson(await apiKeys.show(params.id));
  });
  on(r.revokeApiKey, async (ctx, { params }) => {
    const revoked = await apiKeys.revoke(params.id);
    await audit(ctx, 'api_key.revoked', revoked.apiKey.id, keyDescribed(revoked));
    ctx.body = describedKeyToJson(revoked);
  });
  on(r.rotateApiKey, async (ctx, { params, body }) => {
    const issued = await apiKeys.rotate(params.id, body.graceSeconds);
    await audit(ctx, 'api_key.rotated', params.id, {
      replaced_by: issued.apiKey.id,
      grace_seconds: body.graceSeconds,
      ...keyDescribed(issued),
    });
    ctx.body = issuedKey(ctx, issued);
  });

  on(r.listUsers, async (ctx) => {
    ctx.body = (await users.list()).map(userToJson);
  });
  on(r.createUser, async (ctx, { body }) => {
    const user = userToJson(await users.create(body));
    await audit(ctx, 'user.created', user.id, described(user));
    ctx.status = 201;
    ctx.body = user;
  });
  on(r.showUser, async (ctx, { params }) => {
    ctx.body = userToJson(await users.show(params.id));
  });
  on(r.updateUser, async (ctx, { params, body }) => {
    const before = userToJson(await users.show(params.id));
    const after = userToJson(await users.update(params.id, body));
    await audit(ctx, 'user.updated', after.id, { changes: changedFields(before, after) });
    ctx.body = after;
  });
  on(r.setUserPassword, async (ctx, { params, body }) => {
    const user = userToJson(await users.setPassword(params.id, body));
    // The password itself never: only that it changed, and that the user's sessions and grants went with it.
    await audit(ctx, 'user.password_changed', user.id, { username: user.username, sessions_revoked: true });
    ctx.body = user;
  });
  on(r.deleteUser, async (ctx, { params }) => {
    const user = userToJson(await users.delete(params.id));
    await audit(ctx, 'user.deleted', user.id, described(user));
    ctx.body = user;
  });

  on(r.listKeys, (ctx) => {
    ctx.body = keyRing.list();
  });
  on(r.rotateKeys, async (ctx, { body }) => {
    // Too early: RotationTooEarlyError, a 409 with the time it becomes possible, answered by jsonErrors.
    const rotation = await deps.rotateKeys(body.force);
    await audit(ctx, 'key.rotated', null, { ...rotation, force: body.force });
    ctx.body = keyRing.list();
  });
  on(r.revokeKey, async (ctx, { params }) => {
    const revoked = await deps.revokeKey(params.kid);
    await audit(ctx, 'key.revoked', params.kid, { revoked });
    ctx.body = { revoked, keys: keyRing.list() };
  });

  on(r.listAudit, async (ctx, { query }) => {
    ctx.body = (await deps.audit.list(query)).map(auditEntryToJson);
  });

  on(r.metrics, async (ctx) => {
    const { contentType, text } = await deps.metrics.exposition();
    ctx.type = contentType;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = text;
  });

  // Built once: the schemas do not change while the process runs.
  const { version } = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const document = adminOpenApiDocument(version);
  on(r.openApi, (ctx) => {
    ctx.body = document;
  });
  return router;
}

/** The admin listener: request log → error boundary → JSON errors → bearer token → URL guard → routes. */
export function createAdminApp(deps: AdminDependencies): Koa {
  const app = new Koa();
  app.silent = true;
  const router = routes(deps);
  app.use(requestLog(deps.logger, { metrics: deps.metrics }));
  app.use(errorBoundary({ logger: deps.logger }));
  app.use(jsonErrors);
  app.use(bearerAuth(deps.adminToken));
  app.use(adminUrlGuard);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  return app;
}
