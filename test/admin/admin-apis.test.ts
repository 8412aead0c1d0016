import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenTtlLimitMessage } from '../../src/lib/token-lifetime.js';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectJsonError, newApiNames, type ApiJson } from './admin-helpers.js';

let server: TestServer;
/** An API whose scopes the tests below may use. */
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

describe('APIs', () => {
  it('creates an API with the defaults, then lists and shows it by id and by identifier', async () => {
    const names = newApiNames('/v1/orders');
    const created = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read, names.write],
      name: 'Orders',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const body = created.body as ApiJson;
    expect(body).toMatchObject({
      identifier: names.identifier,
      name: 'Orders',
      scopes: [names.read, names.write],
      token_ttl: 600,
      alg: 'ES256',
    });
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
    const response = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: `${names.read} ${names.write}`,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.scopes).toEqual([names.read, names.write]);
  });

  it('answers 404 JSON for an unknown id or identifier', async () => {
    expectJsonError(await server.admin('get', '/apis/api_doesnotexist'), 404, 'not_found');
    expectJsonError(
      await server.admin('get', `/apis/${encodeURIComponent('https://nobody.example.com')}`),
      404,
      'not_found',
    );
    expectJsonError(await server.admin('patch', '/apis/api_doesnotexist', { name: 'x' }), 404, 'not_found');
    expectJsonError(await server.admin('delete', '/apis/api_doesnotexist'), 404, 'not_found');
  });

  it('accepts a token_ttl of 3600 and refuses 3601 with a message saying the limit', async () => {
    const names = newApiNames();
    const accepted = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read],
      token_ttl: 3600,
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body.token_ttl).toBe(3600);

    const other = newApiNames();
    const refused = await server.admin('post', '/apis', {
      identifier: other.identifier,
      scopes: [other.read],
      token_ttl: 3601,
    });
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
      const response = await server.admin('post', '/apis', {
        identifier: names.identifier,
        scopes: [names.read],
        token_ttl: ttl,
      });
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
    for (const identifier of [
      'api.example.com',
      '/orders',
      'orders',
      '//api.example.com',
      'https://api.example.com/#frag',
      'https://api.example.com/v1#',
    ]) {
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
      const response = await server.admin('post', '/apis', {
        identifier: names.identifier,
        scopes: [names.read, reserved],
      });
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
    const response = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read, owner.scopes[0]],
    });
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
    const response = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read, names.read],
    });
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
    expect(response.body).toMatchObject({
      id: created.id,
      identifier: created.identifier,
      name: 'Renamed',
      scopes: [created.scopes[0], names.write],
      token_ttl: 900,
      alg: 'EdDSA',
    });

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
