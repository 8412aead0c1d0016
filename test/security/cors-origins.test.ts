import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Issue 14 item 10: CORS answers only the http(s) origins of a client's redirect URIs, never "null". */
describe('CORS on the token and revocation endpoints', () => {
  let server: TestServer;
  let nativeClient: string;
  let webClient: string;

  beforeAll(async () => {
    server = await startServer();
    const native = await server.admin('post', '/clients', {
      name: unique('native-'),
      grant_types: ['authorization_code'],
      public: true,
      redirect_uris: ['com.example.app:/callback', 'http://127.0.0.1/callback'],
      scopes: ['openid'],
    });
    expect(native.status, JSON.stringify(native.body)).toBe(201);
    nativeClient = native.body.client_id;
    const web = await server.admin('post', '/clients', {
      name: unique('spa-'),
      grant_types: ['authorization_code'],
      public: true,
      redirect_uris: ['https://spa.example.com/callback'],
      scopes: ['openid'],
    });
    expect(web.status, JSON.stringify(web.body)).toBe(201);
    webClient = web.body.client_id;
  });
  afterAll(async () => {
    await server?.close();
  });

  function tokenRequest(clientId: string, origin: string) {
    return server
      .public()
      .post('/token')
      .set('Origin', origin)
      .type('form')
      .send({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: 'not-a-code',
        redirect_uri: 'com.example.app:/callback',
        code_verifier: 'v'.repeat(43),
      });
  }

  it('refuses Origin: null for a client with a private-use redirect URI (its URL origin is "null")', async () => {
    const response = await tokenRequest(nativeClient, 'null');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('refuses Origin: null on revocation too', async () => {
    const response = await server
      .public()
      .post('/token/revocation')
      .set('Origin', 'null')
      .type('form')
      .send({ client_id: nativeClient, token: 'whatever' });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.status).toBe(400);
  });

  it('refuses a private-use scheme written as an origin', async () => {
    const response = await tokenRequest(nativeClient, 'com.example.app://');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.body.error).toBe('invalid_request');
  });

  it('allows the http(s) origin of a redirect URI', async () => {
    const spa = await tokenRequest(webClient, 'https://spa.example.com');
    expect(spa.headers['access-control-allow-origin']).toBe('https://spa.example.com');
    expect(spa.body.error).not.toBe('invalid_request');
    const loopback = await tokenRequest(nativeClient, 'http://127.0.0.1');
    expect(loopback.headers['access-control-allow-origin']).toBe('http://127.0.0.1');
  });

  it('refuses another origin', async () => {
    const response = await tokenRequest(webClient, 'https://evil.example.com');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.body.error).toBe('invalid_request');
  });
});
