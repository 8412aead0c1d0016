import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * RFC 9700 requirements that SECURITY.md claims and no other test proves: no CORS at the
 * authorization endpoint (§2.6), no credential leak through Referer (§4.2.4), no `none`
 * algorithm anywhere, and no dynamic registration endpoint while registration is off.
 */
describe('hardening that SECURITY.md claims', () => {
  let server: TestServer;
  let metadata: Record<string, unknown>;
  let clientId: string;

  beforeAll(async () => {
    server = await startServer();
    metadata = (await server.public().get('/.well-known/openid-configuration').expect(200)).body;
    const client = await server.admin('post', '/clients', {
      name: unique('spa-'),
      grant_types: ['authorization_code'],
      public: true,
      redirect_uris: ['https://spa.example.com/callback'],
      scopes: ['openid'],
    });
    expect(client.status, JSON.stringify(client.body)).toBe(201);
    clientId = client.body.client_id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('the authorization endpoint answers no CORS request, not even from a registered origin (RFC 9700 §2.6)', async () => {
    const query = {
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://spa.example.com/callback',
    };
    const preflight = await server
      .public()
      .options('/auth')
      .set('Origin', 'https://spa.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .query(query);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await server.public().get('/auth').set('Origin', 'https://spa.example.com').query(query);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('every response asks browsers to send no Referer (RFC 9700 §4.2.4)', async () => {
    for (const path of ['/.well-known/openid-configuration', '/device', '/auth?client_id=nobody', '/token']) {
      const response = await server.public().get(path);
      expect(response.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });

  it('offers no unsigned (none) algorithm in any *_alg_values_supported list', () => {
    const lists = Object.entries(metadata).filter(([name]) => name.endsWith('_alg_values_supported'));
    expect(lists.length).toBeGreaterThan(0);
    for (const [name, values] of lists) expect(values, name).not.toContain('none');
  });

  it('has no registration endpoint: clients are made by an operator only', async () => {
    expect(metadata.registration_endpoint).toBeUndefined();
    const attempt = await server
      .public()
      .post('/reg')
      .send({ redirect_uris: ['https://evil.example/cb'] });
    expect(attempt.status).toBeGreaterThanOrEqual(400);
    expect(attempt.status).toBeLessThan(500);
  });
});
