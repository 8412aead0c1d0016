import crypto from 'node:crypto';
import http from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenTtlLimitMessage } from '../../src/apis/api.js';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
/** An API whose scopes the client tests below may use. */
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

interface ApiJson {
  id: string;
  identifier: string;
  name: string | null;
  scopes: string[];
  token_ttl: number;
  alg: string;
  created_at: string;
  updated_at: string;
}

interface ClientJson {
  client_id: string;
  client_secret?: string;
  name: string;
  public: boolean;
  first_party: boolean;
  grant_types: string[];
  redirect_uris: string[];
  scopes: string[];
  disabled: boolean;
  token_endpoint_auth_method: string;
}

interface KeyJson {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  [field: string]: unknown;
}

/** A fresh identifier and a pair of scope names nobody else owns. */
function newApiNames(path = '') {
  const prefix = unique('adm');
  return { identifier: `https://${prefix}.example.com${path}`, read: `${prefix}:read`, write: `${prefix}:write` };
}

/** client_credentials at the public token endpoint with client_secret_basic. */
function token(clientId: string, secret: string, fields: Record<string, string> = {}) {
  return server.public().post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials', ...fields });
}

function expectJsonError(response: supertest.Response, status: number, error?: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body.error).toEqual(error ?? expect.any(String));
  expect(response.body.error_description).toEqual(expect.any(String));
}

/** Every key of every object in a JSON document, at any depth. */
function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => [key, ...allKeys(inner)]);
  return [];
}

/** The admin listener without supertest, for requests supertest cannot shape (chunked bodies). */
function rawAdminRequest(method: string, route: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; contentType: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.adminUrl}${route}`, { method, headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON: the assertions show the raw text.
        }
        resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body });
      });
    });
    // The server may answer (and stop reading) before the whole body is sent.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('admin API authentication and errors', () => {
  it('answers a request without a token with 401 JSON and a Bearer challenge', async () => {
    const response = await supertest(server.adminUrl).get('/apis');
    expectJsonError(response, 401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(JSON.stringify(response.body)).not.toContain(server.adminToken);
  });

  it('refuses a wrong token, a token of another scheme and a token with extra characters', async () => {
    for (const authorization of ['Bearer wrong-token', `Basic ${Buffer.from(`admin:${server.adminToken}`).toString('base64')}`, `Bearer ${server.adminToken}x`, `Bearer ${server.adminToken.slice(0, -1)}`]) {
      const response = await supertest(server.adminUrl).get('/apis').set('Authorization', authorization);
      expectJsonError(response, 401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
    }
  });

  it('refuses writes without the token and changes nothing', async () => {
    const names = newApiNames();
    const response = await supertest(server.adminUrl).post('/apis').send({ identifier: names.identifier, scopes: [names.read] });
    expectJsonError(response, 401);
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);
  });

  it('answers an unknown route with 404 JSON', async () => {
    const response = await server.admin('get', '/no-such-route');
    expectJsonError(response, 404);
    expect(response.body.error_description).toContain('/no-such-route');
  });

  it('answers a method a route does not have with 405 JSON', async () => {
    const response = await server.admin('delete', '/keys');
    expect(response.status).toBe(405);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body.error).toEqual(expect.any(String));
  });

  it('refuses a body that is not JSON with 400 invalid_request', async () => {
    const response = await server.admin('post', '/apis').set('Content-Type', 'application/json').send('{"identifier": "https://x.example.com",');
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error_description).toMatch(/JSON/);
  });

  it('refuses a JSON body that is not an object', async () => {
    for (const body of ['["https://x.example.com"]', '"https://x.example.com"', 'null']) {
      const response = await server.admin('post', '/apis').set('Content-Type', 'application/json').send(body);
      expectJsonError(response, 400, 'invalid_request');
    }
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], name: 'n'.repeat(70 * 1024) });
    expectJsonError(response, 413);
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);
  });

  it('refuses a chunked body over 64 KiB with 413, without a Content-Length to go by', async () => {
    const names = newApiNames();
    const json = Buffer.from(JSON.stringify({ identifier: names.identifier, scopes: [names.read], name: 'n'.repeat(70 * 1024) }));
    const chunks = [json.subarray(0, 16 * 1024), json.subarray(16 * 1024, 48 * 1024), json.subarray(48 * 1024)];
    const response = await rawAdminRequest('POST', '/apis', {
      authorization: `Bearer ${server.adminToken}`,
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    }, chunks);
    expect(response.status, JSON.stringify(response.body)).toBe(413);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);
  });

  it('accepts a body just under 64 KiB (the limit is not off by a lot)', async () => {
    const names = newApiNames();
    // Fields are capped in length, so the body is padded with whitespace, which JSON allows.
    const json = JSON.stringify({ identifier: names.identifier, scopes: [names.read] });
    const body = `${json.slice(0, -1)}${' '.repeat(60 * 1024)}}`;
    const response = await server.admin('post', '/apis').set('Content-Type', 'application/json').send(body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.identifier).toBe(names.identifier);
  });

  it('refuses unknown fields and names them', async () => {
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], audience: 'x', ttl: 5 });
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error_description).toContain('audience');
    expect(response.body.error_description).toContain('ttl');

    const clientResponse = await server.admin('post', '/clients', { name: unique('c'), grant_types: ['client_credentials'], client_secret: 'mine' });
    expectJsonError(clientResponse, 400, 'invalid_request');
    expect(clientResponse.body.error_description).toContain('client_secret');

    const update = await server.admin('patch', `/apis/${api.id}`, { owner: 'me' });
    expectJsonError(update, 400, 'invalid_request');
    expect(update.body.error_description).toContain('owner');
  });

  it('never answers a stack trace', async () => {
    const response = await server.admin('post', '/apis', { identifier: 42, scopes: {} });
    expectJsonError(response, 400, 'invalid_request');
    expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });
});

describe('APIs', () => {
  it('creates an API with the defaults, then lists and shows it by id and by identifier', async () => {
    const names = newApiNames('/v1/orders');
    const created = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read, names.write], name: 'Orders' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const body = created.body as ApiJson;
    expect(body).toMatchObject({ identifier: names.identifier, name: 'Orders', scopes: [names.read, names.write], token_ttl: 600, alg: 'ES256' });
    expect(body.id).toMatch(/^api_/);
    expect(Number.isNaN(Date.parse(body.created_at))).toBe(false);

    const list = await server.admin('get', '/apis');
    expect(list.status).toBe(200);
    expect((list.body as ApiJson[]).find((item) => item.id === body.id)).toEqual(body);

    const byId = await server.admin('get', `/apis/${body.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(body);

    const byIdentifier = await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`);
    expect(byIdentifier.status).toBe(200);
    expect(byIdentifier.body).toEqual(body);
  });

  it('accepts a string of scopes separated by spaces', async () => {
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: `${names.read} ${names.write}` });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.scopes).toEqual([names.read, names.write]);
  });

  it('answers 404 JSON for an unknown id or identifier', async () => {
    expectJsonError(await server.admin('get', '/apis/api_doesnotexist'), 404, 'not_found');
    expectJsonError(await server.admin('get', `/apis/${encodeURIComponent('https://nobody.example.com')}`), 404, 'not_found');
    expectJsonError(await server.admin('patch', '/apis/api_doesnotexist', { name: 'x' }), 404, 'not_found');
    expectJsonError(await server.admin('delete', '/apis/api_doesnotexist'), 404, 'not_found');
  });

  it('accepts a token_ttl of 3600 and refuses 3601 with a message saying the limit', async () => {
    const names = newApiNames();
    const accepted = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], token_ttl: 3600 });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body.token_ttl).toBe(3600);

    const other = newApiNames();
    const refused = await server.admin('post', '/apis', { identifier: other.identifier, scopes: [other.read], token_ttl: 3601 });
    expectJsonError(refused, 400, 'invalid_request');
    expect(refused.body.error_description).toContain('token_ttl');
    expect(refused.body.error_description).toContain('3600');
    // Worded once (src/apis/api.ts) for the admin API and the CLI.
    expect(refused.body.error_description).toContain(tokenTtlLimitMessage('token_ttl'));
    expect((await server.admin('get', `/apis/${encodeURIComponent(other.identifier)}`)).status).toBe(404);

    const update = await server.admin('patch', `/apis/${accepted.body.id}`, { token_ttl: 7200 });
    expectJsonError(update, 400, 'invalid_request');
    expect(update.body.error_description).toContain('3600');
    expect((await server.admin('get', `/apis/${accepted.body.id}`)).body.token_ttl).toBe(3600);
  });

  it('refuses a token_ttl that is not a positive whole number', async () => {
    for (const ttl of [0, -5, 1.5, '600']) {
      const names = newApiNames();
      const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], token_ttl: ttl });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('token_ttl');
    }
  });

  it('accepts every supported alg and refuses others, naming the choices', async () => {
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA']) {
      const names = newApiNames();
      const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], alg });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body.alg).toBe(alg);
    }
    for (const alg of ['HS256', 'none', 'es256', 'RS512']) {
      const names = newApiNames();
      const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read], alg });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('ES256');
    }
  });

  it('refuses an identifier that is not an absolute URI, or has a fragment', async () => {
    for (const identifier of ['api.example.com', '/orders', 'orders', '//api.example.com', 'https://api.example.com/#frag', 'https://api.example.com/v1#']) {
      const response = await server.admin('post', '/apis', { identifier, scopes: [unique('s')] });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('identifier');
    }
    const missing = await server.admin('post', '/apis', { scopes: [unique('s')] });
    expectJsonError(missing, 400, 'invalid_request');
    expect(missing.body.error_description).toContain('identifier');
  });

  it('accepts a URN identifier (an absolute URI that is not a URL one can fetch)', async () => {
    const identifier = `urn:example:${unique('api')}`;
    const response = await server.admin('post', '/apis', { identifier, scopes: [unique('urn')] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect((await server.admin('get', `/apis/${encodeURIComponent(identifier)}`)).body.id).toBe(response.body.id);
  });

  it('refuses the reserved OpenID Connect scopes as API scopes', async () => {
    for (const reserved of ['openid', 'profile', 'email', 'offline_access']) {
      const names = newApiNames();
      const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read, reserved] });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain(reserved);
      expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);
    }
    const update = await server.admin('patch', `/apis/${api.id}`, { scopes: [...api.scopes, 'openid'] });
    expectJsonError(update, 400, 'invalid_request');
    expect((await server.admin('get', `/apis/${api.id}`)).body.scopes).toEqual(api.scopes);
  });

  it('refuses scope names that are not RFC 6749 scope tokens', async () => {
    for (const scope of ['has"quote', 'back\\slash', 'nön-ascii']) {
      const names = newApiNames();
      const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [scope] });
      expectJsonError(response, 400, 'invalid_request');
    }
  });

  it('refuses a scope another API owns with 409 naming the owner, on create and on update', async () => {
    const owner = await createApi(server);
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read, owner.scopes[0]] });
    expectJsonError(response, 409);
    expect(response.body.error_description).toContain(owner.scopes[0]);
    expect(response.body.error_description).toContain(owner.identifier);
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);

    const other = await createApi(server);
    const update = await server.admin('patch', `/apis/${other.id}`, { scopes: [...other.scopes, owner.scopes[1]] });
    expectJsonError(update, 409);
    expect(update.body.error_description).toContain(owner.identifier);
    expect((await server.admin('get', `/apis/${other.id}`)).body.scopes).toEqual(other.scopes);
    expect((await server.admin('get', `/apis/${owner.id}`)).body.scopes).toEqual(owner.scopes);
  });

  it('refuses a scope listed twice', async () => {
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: names.identifier, scopes: [names.read, names.read] });
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error_description).toContain(names.read);
  });

  it('refuses a duplicate identifier with 409, on create and on update', async () => {
    const first = await createApi(server);
    const names = newApiNames();
    const response = await server.admin('post', '/apis', { identifier: first.identifier, scopes: [names.read] });
    expectJsonError(response, 409);
    expect(response.body.error_description).toContain(first.identifier);

    const second = await createApi(server);
    const update = await server.admin('patch', `/apis/${second.id}`, { identifier: first.identifier });
    expectJsonError(update, 409);
    expect((await server.admin('get', `/apis/${second.id}`)).body.identifier).toBe(second.identifier);
  });

  it('updates name, scopes, token_ttl, alg and identifier, and keeps its own scopes on update', async () => {
    const created = await createApi(server);
    const names = newApiNames('/v2');
    const response = await server.admin('patch', `/apis/${encodeURIComponent(created.identifier)}`, {
      name: 'Renamed',
      scopes: [created.scopes[0], names.write],
      token_ttl: 900,
      alg: 'EdDSA',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ id: created.id, identifier: created.identifier, name: 'Renamed', scopes: [created.scopes[0], names.write], token_ttl: 900, alg: 'EdDSA' });

    const moved = await server.admin('patch', `/apis/${created.id}`, { identifier: names.identifier });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.identifier).toBe(names.identifier);
    expect((await server.admin('get', `/apis/${encodeURIComponent(created.identifier)}`)).status).toBe(404);
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).body).toEqual(moved.body);

    // A scope released by the update can be claimed by another API.
    const claimer = newApiNames();
    const claim = await server.admin('post', '/apis', { identifier: claimer.identifier, scopes: [created.scopes[1]] });
    expect(claim.status, JSON.stringify(claim.body)).toBe(201);
  });

  it('deletes an API by identifier; afterwards it is gone and its scopes are free', async () => {
    const created = await createApi(server);
    const response = await server.admin('delete', `/apis/${encodeURIComponent(created.identifier)}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(created.id);
    expectJsonError(await server.admin('get', `/apis/${created.id}`), 404, 'not_found');
    expect((await server.admin('get', '/apis')).body.some((item: ApiJson) => item.id === created.id)).toBe(false);
    expectJsonError(await server.admin('delete', `/apis/${created.id}`), 404, 'not_found');

    const reuse = await server.admin('post', '/apis', { identifier: created.identifier, scopes: created.scopes });
    expect(reuse.status, JSON.stringify(reuse.body)).toBe(201);
  });
});

describe('clients', () => {
  it('creates a confidential client whose secret is returned once and never again', async () => {
    const name = unique('svc-');
    const created = await server.admin('post', '/clients', { name, grant_types: ['client_credentials'], scopes: [api.scopes[0]] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers['cache-control']).toMatch(/no-store/);
    const body = created.body as ClientJson;
    expect(body).toMatchObject({ name, public: false, grant_types: ['client_credentials'], scopes: [api.scopes[0]], disabled: false, token_endpoint_auth_method: 'client_secret_basic' });
    expect(body.client_id).toMatch(/^client_/);
    const secret = body.client_secret!;
    expect(secret).toMatch(/^tgs_[A-Za-z0-9_-]{40,}$/);
    expect(allKeys(body)).not.toContain('secret_hash');

    const hash = crypto.createHash('sha256').update(secret).digest('base64url');
    for (const response of [await server.admin('get', '/clients'), await server.admin('get', `/clients/${body.client_id}`)]) {
      expect(response.status).toBe(200);
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hash);
      expect(allKeys(response.body)).not.toContain('client_secret');
      expect(allKeys(response.body)).not.toContain('secret_hash');
    }
    const shown = await server.admin('get', `/clients/${body.client_id}`);
    const { client_secret: _secret, ...withoutSecret } = body;
    expect(shown.body).toEqual(withoutSecret);
    expect(server.logs.join('')).not.toContain(secret);

    const tokenResponse = await token(body.client_id, secret);
    expect(tokenResponse.status, JSON.stringify(tokenResponse.body)).toBe(200);
    expect(tokenResponse.body.access_token).toEqual(expect.any(String));
  });

  it('gives every client its own secret', async () => {
    const a = await createServiceClient(server, [api.scopes[0]!]);
    const b = await createServiceClient(server, [api.scopes[0]!]);
    expect(a.client_secret).not.toBe(b.client_secret);
    expect(a.client_id).not.toBe(b.client_id);
    expect((await token(a.client_id, b.client_secret)).status).toBe(401);
  });

  it('refuses a client without a name or grant types, or with an unsupported grant type', async () => {
    const noName = await server.admin('post', '/clients', { grant_types: ['client_credentials'] });
    expectJsonError(noName, 400, 'invalid_request');
    expect(noName.body.error_description).toContain('name');

    const noGrants = await server.admin('post', '/clients', { name: unique('c') });
    expectJsonError(noGrants, 400, 'invalid_request');
    expect(noGrants.body.error_description).toContain('grant_types');

    for (const grant of ['password', 'implicit']) {
      const response = await server.admin('post', '/clients', { name: unique('c'), grant_types: [grant] });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain(grant);
    }
  });

  it('creates a public client with no secret, which cannot use client_credentials', async () => {
    const created = await server.admin('post', '/clients', {
      name: unique('spa-'), public: true, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://app.example.com/cb'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ public: true, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
    expect(allKeys(created.body)).not.toContain('client_secret');

    const rotate = await server.admin('post', `/clients/${created.body.client_id}/rotate-secret`);
    expectJsonError(rotate, 400, 'invalid_request');
    expect(allKeys(rotate.body)).not.toContain('client_secret');

    const cc = await server.admin('post', '/clients', { name: unique('pub-'), public: true, grant_types: ['client_credentials'] });
    expectJsonError(cc, 400, 'invalid_request');
    expect(cc.body.error_description).toContain('client_credentials');
  });

  it('requires redirect URIs for authorization_code, and only for it', async () => {
    const without = await server.admin('post', '/clients', { name: unique('web-'), grant_types: ['authorization_code'] });
    expectJsonError(without, 400, 'invalid_request');
    expect(without.body.error_description).toMatch(/redirect/i);

    const empty = await server.admin('post', '/clients', { name: unique('web-'), grant_types: ['authorization_code'], redirect_uris: [] });
    expectJsonError(empty, 400, 'invalid_request');

    const stray = await server.admin('post', '/clients', { name: unique('svc-'), grant_types: ['client_credentials'], redirect_uris: ['https://app.example.com/cb'] });
    expectJsonError(stray, 400, 'invalid_request');
  });

  it('refuses refresh_token without authorization_code', async () => {
    for (const grants of [['refresh_token'], ['client_credentials', 'refresh_token']]) {
      const response = await server.admin('post', '/clients', { name: unique('c'), grant_types: grants });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('refresh_token');
    }
  });

  describe('redirect URIs', () => {
    async function register(isPublic: boolean, uri: string) {
      return server.admin('post', '/clients', {
        name: unique('redir-'), public: isPublic, grant_types: ['authorization_code'], redirect_uris: [uri],
      });
    }

    it('accepts https for confidential and public clients', async () => {
      for (const isPublic of [false, true]) {
        const response = await register(isPublic, 'https://app.example.com/callback?x=1');
        expect(response.status, JSON.stringify(response.body)).toBe(201);
        expect(response.body.redirect_uris).toEqual(['https://app.example.com/callback?x=1']);
      }
    });

    it('refuses http to a host that is not loopback', async () => {
      for (const isPublic of [false, true]) {
        const response = await register(isPublic, 'http://app.example.com/cb');
        expectJsonError(response, 400, 'invalid_request');
        expect(response.body.error_description).toContain('http://app.example.com/cb');
        expect(response.body.error_description).toContain('https');
      }
    });

    it('accepts http://127.0.0.1 only for public clients', async () => {
      const confidential = await register(false, 'http://127.0.0.1:8080/cb');
      expectJsonError(confidential, 400, 'invalid_request');
      expect(confidential.body.error_description).toMatch(/public/);

      const accepted = await register(true, 'http://127.0.0.1:8080/cb');
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      expect(accepted.body.redirect_uris).toEqual(['http://127.0.0.1:8080/cb']);
    });

    it('accepts a private-use scheme only for public clients', async () => {
      const confidential = await register(false, 'com.example.app:/cb');
      expectJsonError(confidential, 400, 'invalid_request');

      const accepted = await register(true, 'com.example.app:/cb');
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      expect(accepted.body.redirect_uris).toEqual(['com.example.app:/cb']);

      // A scheme that is not in reverse-domain form is not a private-use scheme.
      const bare = await register(true, 'myapp:/cb');
      expectJsonError(bare, 400, 'invalid_request');
    });

    it('refuses a fragment, a wildcard or something that is not a URI', async () => {
      for (const uri of ['https://app.example.com/cb#frag', 'https://app.example.com/cb#', 'https://*.example.com/cb', '/cb', 'app.example.com/cb']) {
        const response = await register(false, uri);
        expectJsonError(response, 400, 'invalid_request');
      }
      const fragment = await register(true, 'https://app.example.com/cb#frag');
      expect(fragment.body.error_description).toContain('fragment');
    });

    it('refuses http://localhost with a hint to use the loopback IP', async () => {
      for (const isPublic of [false, true]) {
        const response = await register(isPublic, 'http://localhost:8080/cb');
        expectJsonError(response, 400, 'invalid_request');
        expect(response.body.error_description).toContain('127.0.0.1');
      }
    });

    it('applies the same rules to post-logout redirect URIs', async () => {
      const response = await server.admin('post', '/clients', {
        name: unique('web-'), grant_types: ['authorization_code'], redirect_uris: ['https://app.example.com/cb'], post_logout_redirect_uris: ['http://app.example.com/bye'],
      });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('post_logout_redirect_uris');
    });
  });

  it('refuses a scope no API owns, naming it', async () => {
    const missing = unique('nobody:');
    const response = await server.admin('post', '/clients', { name: unique('c'), grant_types: ['client_credentials'], scopes: [api.scopes[0], missing] });
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error_description).toContain(missing);
    expect(response.body.error_description).not.toContain(api.scopes[0]);
  });

  it('answers 404 JSON for an unknown client', async () => {
    expectJsonError(await server.admin('get', '/clients/client_doesnotexist'), 404, 'not_found');
    expectJsonError(await server.admin('patch', '/clients/client_doesnotexist', { name: 'x' }), 404, 'not_found');
    expectJsonError(await server.admin('delete', '/clients/client_doesnotexist'), 404, 'not_found');
    expectJsonError(await server.admin('post', '/clients/client_doesnotexist/rotate-secret'), 404, 'not_found');
  });

  it('updates name and scopes, and refuses an empty or invalid update', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    const name = unique('renamed-');
    const response = await server.admin('patch', `/clients/${client.client_id}`, { name, scopes: api.scopes });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ client_id: client.client_id, name, scopes: api.scopes });
    expect(allKeys(response.body)).not.toContain('client_secret');
    expect((await server.admin('get', `/clients/${client.client_id}`)).body).toMatchObject({ name, scopes: api.scopes });

    // The new scope is usable at once on this instance.
    const granted = await token(client.client_id, client.client_secret, { scope: api.scopes[1]! });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);

    expectJsonError(await server.admin('patch', `/clients/${client.client_id}`, {}), 400, 'invalid_request');
    const unknownScope = await server.admin('patch', `/clients/${client.client_id}`, { scopes: [unique('nobody:')] });
    expectJsonError(unknownScope, 400, 'invalid_request');
    const publicFlag = await server.admin('patch', `/clients/${client.client_id}`, { public: true });
    expectJsonError(publicFlag, 400, 'invalid_request');
    expect(publicFlag.body.error_description).toContain('public');
    expect((await server.admin('get', `/clients/${client.client_id}`)).body).toMatchObject({ name, scopes: api.scopes, public: false });
  });

  it('a disabled client can no longer get a token, and can again once enabled', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    expect((await token(client.client_id, client.client_secret)).status).toBe(200);

    const disabled = await server.admin('patch', `/clients/${client.client_id}`, { disabled: true });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body.disabled).toBe(true);

    const refused = await token(client.client_id, client.client_secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(refused.body.access_token).toBeUndefined();

    const enabled = await server.admin('patch', `/clients/${client.client_id}`, { disabled: false });
    expect(enabled.body.disabled).toBe(false);
    expect((await token(client.client_id, client.client_secret)).status).toBe(200);
  });

  it('rotate-secret returns a new secret; the old one stops working at once and the new one works', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    expect((await token(client.client_id, client.client_secret)).status).toBe(200);

    const rotated = await server.admin('post', `/clients/${client.client_id}/rotate-secret`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.headers['cache-control']).toMatch(/no-store/);
    expect(rotated.body.client_id).toBe(client.client_id);
    const secret = rotated.body.client_secret as string;
    expect(secret).toMatch(/^tgs_/);
    expect(secret).not.toBe(client.client_secret);
    expect(allKeys(rotated.body)).not.toContain('secret_hash');

    const old = await token(client.client_id, client.client_secret);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    const fresh = await token(client.client_id, secret);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(fresh.body.access_token).toEqual(expect.any(String));

    expect(JSON.stringify((await server.admin('get', `/clients/${client.client_id}`)).body)).not.toContain(secret);
  });

  it('delete removes the client: show is 404 and it can no longer get a token', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    expect((await token(client.client_id, client.client_secret)).status).toBe(200);

    const deleted = await server.admin('delete', `/clients/${client.client_id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.client_id).toBe(client.client_id);
    expect(allKeys(deleted.body)).not.toContain('client_secret');

    expectJsonError(await server.admin('get', `/clients/${client.client_id}`), 404, 'not_found');
    expect((await server.admin('get', '/clients')).body.some((item: ClientJson) => item.client_id === client.client_id)).toBe(false);
    const refused = await token(client.client_id, client.client_secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
  });
});

describe('signing keys', () => {
  const ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
  const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'private_jwk', 'private_key', 'privateJwk', 'private_jwk_sealed'];

  it('lists exactly one current and one next key per algorithm, without private material', async () => {
    const response = await server.admin('get', '/keys');
    expect(response.status).toBe(200);
    const keys = response.body as KeyJson[];
    expect(Array.isArray(keys)).toBe(true);
    for (const alg of ALGS) {
      const ofAlg = keys.filter((key) => key.alg === alg);
      expect(ofAlg.filter((key) => key.state === 'current'), alg).toHaveLength(1);
      expect(ofAlg.filter((key) => key.state === 'next'), alg).toHaveLength(1);
    }
    for (const key of keys) {
      expect(key.kid).toEqual(expect.any(String));
      expect(ALGS).toContain(key.alg);
      expect(['current', 'next', 'previous']).toContain(key.state);
      expect(Number.isNaN(Date.parse(key.created_at))).toBe(false);
    }
    expect(new Set(keys.map((key) => key.kid)).size).toBe(keys.length);
    const keyNames = allKeys(keys);
    for (const member of PRIVATE_MEMBERS) expect(keyNames).not.toContain(member);
    expect(JSON.stringify(keys)).not.toMatch(/PRIVATE KEY/);
  });

  it('publishes every listed key in the public JWKS, without private members', async () => {
    const keys = (await server.admin('get', '/keys')).body as KeyJson[];
    const jwksResponse = await server.public().get('/jwks');
    expect(jwksResponse.status).toBe(200);
    const jwks = jwksResponse.body as { keys: Record<string, unknown>[] };
    const published = new Map(jwks.keys.map((jwk) => [jwk.kid, jwk]));
    for (const key of keys) {
      const jwk = published.get(key.kid);
      expect(jwk, `${key.state} ${key.alg} key ${key.kid} missing from the JWKS`).toBeDefined();
      expect(jwk!.alg ?? key.alg).toBe(key.alg);
    }
    for (const jwk of jwks.keys) {
      for (const member of PRIVATE_MEMBERS) expect(Object.keys(jwk)).not.toContain(member);
      expect(['EC', 'RSA', 'OKP']).toContain(jwk.kty);
    }
  });

  it('requires the admin token', async () => {
    const response = await supertest(server.adminUrl).get('/keys');
    expectJsonError(response, 401);
  });
});
