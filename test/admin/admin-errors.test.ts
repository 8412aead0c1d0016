import http from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectJsonError, newApiNames } from './admin-helpers.js';

let server: TestServer;
/** An API whose scopes the tests below may use. */
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

/** The admin listener without supertest, for requests supertest cannot shape (chunked bodies). */
function rawAdminRequest(
  method: string,
  route: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<{ status: number; contentType: string | undefined; body: unknown }> {
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
    for (const authorization of [
      'Bearer wrong-token',
      `Basic ${Buffer.from(`admin:${server.adminToken}`).toString('base64')}`,
      `Bearer ${server.adminToken}x`,
      `Bearer ${server.adminToken.slice(0, -1)}`,
    ]) {
      const response = await supertest(server.adminUrl).get('/apis').set('Authorization', authorization);
      expectJsonError(response, 401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
    }
  });

  it('refuses writes without the token and changes nothing', async () => {
    const names = newApiNames();
    const response = await supertest(server.adminUrl)
      .post('/apis')
      .send({ identifier: names.identifier, scopes: [names.read] });
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
    const response = await server
      .admin('post', '/apis')
      .set('Content-Type', 'application/json')
      .send('{"identifier": "https://x.example.com",');
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
    const response = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read],
      name: 'n'.repeat(70 * 1024),
    });
    expectJsonError(response, 413);
    expect((await server.admin('get', `/apis/${encodeURIComponent(names.identifier)}`)).status).toBe(404);
  });

  it('refuses a chunked body over 64 KiB with 413, without a Content-Length to go by', async () => {
    const names = newApiNames();
    const json = Buffer.from(
      JSON.stringify({ identifier: names.identifier, scopes: [names.read], name: 'n'.repeat(70 * 1024) }),
    );
    const chunks = [json.subarray(0, 16 * 1024), json.subarray(16 * 1024, 48 * 1024), json.subarray(48 * 1024)];
    const response = await rawAdminRequest(
      'POST',
      '/apis',
      {
        authorization: `Bearer ${server.adminToken}`,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      },
      chunks,
    );
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
    const response = await server.admin('post', '/apis', {
      identifier: names.identifier,
      scopes: [names.read],
      audience: 'x',
      ttl: 5,
    });
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error_description).toContain('audience');
    expect(response.body.error_description).toContain('ttl');

    const clientResponse = await server.admin('post', '/clients', {
      name: unique('c'),
      grant_types: ['client_credentials'],
      client_secret: 'mine',
    });
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
