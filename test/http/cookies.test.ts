import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

const REDIRECT_URI = 'https://app.example.com/callback';

async function authorizationCookies(server: TestServer, headers: Record<string, string>) {
  const client = await server.admin('post', '/clients', {
    name: unique('web-'),
    grant_types: ['authorization_code'],
    redirect_uris: [REDIRECT_URI],
    scopes: ['openid'],
  });
  const challenge = crypto
    .createHash('sha256')
    .update(crypto.randomBytes(32).toString('base64url'))
    .digest('base64url');
  const response = await server.public().get('/auth').set(headers).query({
    client_id: client.body.client_id,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's',
  });
  expect(response.status).toBe(303);
  return ([] as string[]).concat(response.headers['set-cookie'] ?? []);
}

describe('session cookies', () => {
  let direct: TestServer;
  let proxied: TestServer;
  beforeAll(async () => {
    [direct, proxied] = await Promise.all([startServer(), startServer({ env: { TRUST_PROXY: 'true' } })]);
  });
  afterAll(async () => {
    await Promise.all([direct?.close(), proxied?.close()]);
  });

  it('are HttpOnly and SameSite=Lax, and not Secure over plain http', async () => {
    const cookies = await authorizationCookies(direct, {});
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/;\s*httponly/i);
      expect(cookie).toMatch(/;\s*samesite=lax/i);
      expect(cookie).not.toMatch(/;\s*secure/i);
    }
  });

  it('are Secure behind an HTTPS proxy when TRUST_PROXY is set', async () => {
    const cookies = await authorizationCookies(proxied, { 'X-Forwarded-Proto': 'https' });
    for (const cookie of cookies) expect(cookie).toMatch(/;\s*secure/i);
  });

  it('ignore X-Forwarded-Proto when TRUST_PROXY is not set', async () => {
    const cookies = await authorizationCookies(direct, { 'X-Forwarded-Proto': 'https' });
    for (const cookie of cookies) expect(cookie).not.toMatch(/;\s*secure/i);
  });
});
