import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { allKeys, expectJsonError, type ClientJson } from './admin-helpers.js';

let server: TestServer;
/** An API whose scopes the tests below may use. */
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

/** client_credentials at the public token endpoint with client_secret_basic. */
function token(clientId: string, secret: string, fields: Record<string, string> = {}) {
  return server
    .public()
    .post('/token')
    .auth(clientId, secret)
    .type('form')
    .send({ grant_type: 'client_credentials', ...fields });
}

describe('clients', () => {
  it('creates a confidential client whose secret is returned once and never again', async () => {
    const name = unique('svc-');
    const created = await server.admin('post', '/clients', {
      name,
      grant_types: ['client_credentials'],
      scopes: [api.scopes[0]],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers['cache-control']).toMatch(/no-store/);
    const body = created.body as ClientJson;
    expect(body).toMatchObject({
      name,
      public: false,
      grant_types: ['client_credentials'],
      scopes: [api.scopes[0]],
      disabled: false,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(body.client_id).toMatch(/^client_/);
    const secret = body.client_secret!;
    expect(secret).toMatch(/^tgs_[A-Za-z0-9_-]{40,}$/);
    expect(allKeys(body)).not.toContain('secret_hash');

    const hash = crypto.createHash('sha256').update(secret).digest('base64url');
    for (const response of [
      await server.admin('get', '/clients'),
      await server.admin('get', `/clients/${body.client_id}`),
    ]) {
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
      name: unique('spa-'),
      public: true,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://app.example.com/cb'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      public: true,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(allKeys(created.body)).not.toContain('client_secret');

    const rotate = await server.admin('post', `/clients/${created.body.client_id}/rotate-secret`);
    expectJsonError(rotate, 400, 'invalid_request');
    expect(allKeys(rotate.body)).not.toContain('client_secret');

    const cc = await server.admin('post', '/clients', {
      name: unique('pub-'),
      public: true,
      grant_types: ['client_credentials'],
    });
    expectJsonError(cc, 400, 'invalid_request');
    expect(cc.body.error_description).toContain('client_credentials');
  });

  it('requires redirect URIs for authorization_code, and only for it', async () => {
    const without = await server.admin('post', '/clients', {
      name: unique('web-'),
      grant_types: ['authorization_code'],
    });
    expectJsonError(without, 400, 'invalid_request');
    expect(without.body.error_description).toMatch(/redirect/i);

    const empty = await server.admin('post', '/clients', {
      name: unique('web-'),
      grant_types: ['authorization_code'],
      redirect_uris: [],
    });
    expectJsonError(empty, 400, 'invalid_request');

    const stray = await server.admin('post', '/clients', {
      name: unique('svc-'),
      grant_types: ['client_credentials'],
      redirect_uris: ['https://app.example.com/cb'],
    });
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
        name: unique('redir-'),
        public: isPublic,
        grant_types: ['authorization_code'],
        redirect_uris: [uri],
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
      for (const uri of [
        'https://app.example.com/cb#frag',
        'https://app.example.com/cb#',
        'https://*.example.com/cb',
        '/cb',
        'app.example.com/cb',
      ]) {
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
        name: unique('web-'),
        grant_types: ['authorization_code'],
        redirect_uris: ['https://app.example.com/cb'],
        post_logout_redirect_uris: ['http://app.example.com/bye'],
      });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description).toContain('post_logout_redirect_uris');
    });
  });

  it('refuses a scope no API owns, naming it', async () => {
    const missing = unique('nobody:');
    const response = await server.admin('post', '/clients', {
      name: unique('c'),
      grant_types: ['client_credentials'],
      scopes: [api.scopes[0], missing],
    });
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
    expect((await server.admin('get', `/clients/${client.client_id}`)).body).toMatchObject({
      name,
      scopes: api.scopes,
    });

    // The new scope is usable at once on this instance.
    const granted = await token(client.client_id, client.client_secret, { scope: api.scopes[1]! });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);

    expectJsonError(await server.admin('patch', `/clients/${client.client_id}`, {}), 400, 'invalid_request');
    const unknownScope = await server.admin('patch', `/clients/${client.client_id}`, { scopes: [unique('nobody:')] });
    expectJsonError(unknownScope, 400, 'invalid_request');
    const publicFlag = await server.admin('patch', `/clients/${client.client_id}`, { public: true });
    expectJsonError(publicFlag, 400, 'invalid_request');
    expect(publicFlag.body.error_description).toContain('public');
    expect((await server.admin('get', `/clients/${client.client_id}`)).body).toMatchObject({
      name,
      scopes: api.scopes,
      public: false,
    });
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
    expect(
      (await server.admin('get', '/clients')).body.some((item: ClientJson) => item.client_id === client.client_id),
    ).toBe(false);
    const refused = await token(client.client_id, client.client_secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
  });
});
