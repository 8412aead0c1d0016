import { z } from 'zod';
import { createApiBody, updateApiBody } from './apis.js';
import { createApiKeyBody, rotateApiKeyBody } from './api-keys.js';
import { listAuditQuery } from './audit.js';
import { addClientKeyBody } from './client-keys.js';
import { createClientBody, updateClientBody } from './clients.js';
import { rotateKeysBody } from './keys.js';
import { createUserBody, setPasswordBody, updateUserBody } from './users.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One admin route: where it is, what it takes and how the OpenAPI document describes it. */
export interface AdminRoute<
  Params extends z.ZodType = z.ZodType,
  Body extends z.ZodType | undefined = z.ZodType | undefined,
  Query extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: HttpMethod;
  /** In the router's syntax (`/apis/:id`). */
  path: string;
  /** The operation's name in the OpenAPI document and its request-body schema's. */
  operationId: string;
  summary: string;
  params: Params;
  body: Body;
  /** Its query parameters, for the routes that take any (the others ignore a query string). */
  query: Query;
  /** The success status and what it answers (JSON unless another media type is named). */
  success: { status: 200 | 201; description: string; contentType?: string };
}

const noParams = z.strictObject({});
const byId = (description: string) => z.strictObject({ id: z.string().meta({ description }) });
const apiId = byId("the API's id or its identifier (percent-encoded)");
const clientId = byId('the client_id');
const userId = byId("the user's id or username");
const apiKeyId = byId("the API key's id (key_…)");
const clientKey = z.strictObject({
  id: z.string().meta({ description: 'the client_id' }),
  keyid: z.string().meta({ description: "the key's keyid (ck_…)" }),
});
const kid = z.strictObject({ kid: z.string().meta({ description: "the key's kid" }) });

type UnnamedRoute<
  Params extends z.ZodType,
  Body extends z.ZodType | undefined,
  Query extends z.ZodType | undefined = undefined,
> = Omit<AdminRoute<Params, Body, Query>, 'operationId'>;

function route<
  Params extends z.ZodType,
  Body extends z.ZodType | undefined = undefined,
  Query extends z.ZodType | undefined = undefined,
>(
  method: HttpMethod,
  path: string,
  summary: string,
  options: { params: Params; body?: Body; query?: Query; success?: AdminRoute['success'] },
): UnnamedRoute<Params, Body, Query> {
  return {
    method,
    path,
    summary,
    params: options.params,
    body: options.body as Body,
    query: options.query as Query,
    success: options.success ?? { status: 200, description: 'done' },
  };
}

/** Each route named by its key in the table: its operationId is spelled once. */
function named<Routes extends Record<string, UnnamedRoute<z.ZodType, z.ZodType | undefined, z.ZodType | undefined>>>(
  routes: Routes,
): { [Name in keyof Routes]: Routes[Name] & { operationId: Name & string } } {
  return Object.fromEntries(
    Object.entries(routes).map(([operationId, unnamed]) => [operationId, { ...unnamed, operationId }]),
  ) as { [Name in keyof Routes]: Routes[Name] & { operationId: Name & string } };
}

/** Every route of the admin listener: the router, the OpenAPI document and the CLI all read this table. */
export const adminRoutes = named({
  listApis: route('get', '/apis', 'List APIs', {
    params: noParams,
    success: { status: 200, description: 'every API' },
  }),
  createApi: route('post', '/apis', 'Register an API', {
    params: noParams,
    body: createApiBody,
    success: { status: 201, description: 'the API' },
  }),
  showApi: route('get', '/apis/:id', 'Show an API', {
    params: apiId,
    success: { status: 200, description: 'the API' },
  }),
  updateApi: route('patch', '/apis/:id', 'Change an API', {
    params: apiId,
    body: updateApiBody,
    success: { status: 200, description: 'the API as changed' },
  }),
  deleteApi: route('delete', '/apis/:id', 'Delete an API', {
    params: apiId,
    success: { status: 200, description: 'the API deleted' },
  }),

  listClients: route('get', '/clients', 'List clients', {
    params: noParams,
    success: { status: 200, description: 'every client, never a secret' },
  }),
  createClient: route('post', '/clients', 'Register a client', {
    params: noParams,
    body: createClientBody,
    success: { status: 201, description: 'the client with its client_secret (shown once; none for a public client)' },
  }),
  showClient: route('get', '/clients/:id', 'Show a client', {
    params: clientId,
    success: { status: 200, description: 'the client' },
  }),
  updateClient: route('patch', '/clients/:id', 'Change a client', {
    params: clientId,
    body: updateClientBody,
    success: { status: 200, description: 'the client as changed' },
  }),
  deleteClient: route('delete', '/clients/:id', 'Delete a client, revoking its grants and tokens', {
    params: clientId,
    success: { status: 200, description: 'the client deleted' },
  }),
  rotateClientSecret: route(
    'post',
    '/clients/:id/rotate-secret',
    'Give a client a new secret; the old one stops working',
    {
      params: clientId,
      success: { status: 200, description: 'the client with its new client_secret (shown once)' },
    },
  ),

  // A client's signing keys (RFC 9421 signed requests, private_key_jwt): beneath the client.
  listClientKeys: route('get', '/clients/:id/keys', "List a client's keys (never an HMAC secret)", {
    params: clientId,
    success: { status: 200, description: "the client's keys: keyid, alg, thumbprint (public keys), created_at" },
  }),
  addClientKey: route('post', '/clients/:id/keys', 'Register a public key for a client, or generate an HMAC secret', {
    params: clientId,
    body: addClientKeyBody,
    success: {
      status: 201,
      description:
        'the key: keyid, alg and thumbprint; for hmac, its secret instead (shown once, kept sealed under the key-encryption key)',
    },
  }),
  removeClientKey: route('delete', '/clients/:id/keys/:keyid', "Remove a client's key: refused everywhere within 5 s", {
    params: clientKey,
    success: { status: 200, description: 'the key removed' },
  }),

  // A client's keys have a path of their own rather than a query parameter (`?client=`): the
  // admin routes take path parameters and bodies only.
  listApiKeys: route('get', '/api-keys', 'List API keys (never a key itself)', {
    params: noParams,
    success: { status: 200, description: 'every API key' },
  }),
  listClientApiKeys: route('get', '/clients/:id/api-keys', "List one client's API keys (never a key itself)", {
    params: clientId,
    success: { status: 200, description: "the client's API keys" },
  }),
  createApiKey: route('post', '/api-keys', 'Issue an API key for a client', {
    params: noParams,
    body: createApiKeyBody,
    success: { status: 201, description: 'the API key with its key (shown once, stored only as a SHA-256 hash)' },
  }),
  showApiKey: route('get', '/api-keys/:id', 'Show an API key (never the key itself)', {
    params: apiKeyId,
    success: { status: 200, description: 'the API key' },
  }),
  revokeApiKey: route('post', '/api-keys/:id/revoke', 'Revoke an API key: it stops working at once', {
    params: apiKeyId,
    success: { status: 200, description: 'the API key revoked' },
  }),
  rotateApiKey: route('post', '/api-keys/:id/rotate', 'Replace an API key; the old one works for the grace period', {
    params: apiKeyId,
    body: rotateApiKeyBody,
    success: { status: 200, description: 'the new API key with its key (shown once)' },
  }),

  listUsers: route('get', '/users', 'List users', {
    params: noParams,
    success: { status: 200, description: 'every user' },
  }),
  createUser: route('post', '/users', 'Create a user', {
    params: noParams,
    body: createUserBody,
    success: { status: 201, description: 'the user' },
  }),
  showUser: route('get', '/users/:id', 'Show a user', {
    params: userId,
    success: { status: 200, description: 'the user' },
  }),
  updateUser: route('patch', '/users/:id', "Change a user's username or email", {
    params: userId,
    body: updateUserBody,
    success: { status: 200, description: 'the user as changed' },
  }),
  setUserPassword: route('put', '/users/:id/password', "Set a user's password, revoking their sessions and grants", {
    params: userId,
    body: setPasswordBody,
    success: { status: 200, description: 'the user' },
  }),
  deleteUser: route('delete', '/users/:id', 'Delete a user, revoking their sessions and grants', {
    params: userId,
    success: { status: 200, description: 'the user deleted' },
  }),

  listKeys: route('get', '/keys', 'List signing keys (never private material)', {
    params: noParams,
    success: { status: 200, description: 'the key ring' },
  }),
  rotateKeys: route('post', '/keys/rotate', 'Promote the next keys to current and publish new next keys', {
    params: noParams,
    body: rotateKeysBody,
    success: { status: 200, description: 'the key ring after rotating' },
  }),
  revokeKey: route('post', '/keys/:kid/revoke', 'Withdraw a key (and replace it)', {
    params: kid,
    success: { status: 200, description: 'the kids revoked and the key ring' },
  }),

  listAudit: route('get', '/audit', 'List audit log entries, newest first', {
    params: noParams,
    query: listAuditQuery,
    success: { status: 200, description: 'the entries, newest first; never a secret' },
  }),

  metrics: route('get', '/metrics', 'Prometheus metrics', {
    params: noParams,
    success: {
      status: 200,
      description: "this instance's metrics in Prometheus text format",
      contentType: 'text/plain; version=0.0.4',
    },
  }),
  openApi: route('get', '/openapi.json', 'This document', {
    params: noParams,
    success: { status: 200, description: "the admin API's OpenAPI 3.1 document" },
  }),
});

export type AdminRouteName = keyof typeof adminRoutes;
