import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 14 item 12: cookies are Secure whenever ISSUER is https, even when the last hop (a
 * TLS-terminating proxy, here supertest) is plain http and TRUST_PROXY is unset; a plain-http
 * issuer on a non-loopback host is announced at start.
 */
const REDIRECT_URI = 'https://app.example.com/callback';

function cookiesOf(response: { headers: Record<string, unknown> }): string[] {
  return ([] as string[]).concat((response.headers['set-cookie'] as string[] | undefined) ?? []);
}

async function authorize(server: TestServer) {
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
  return server.public().get('/auth').query({
    client_id: client.body.client_id,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's',
  });
}

function warnings(server: TestServer): string[] {
  return server.logs.filter((line) => line.includes('plain http on a non-loopback host'));
}

describe('an https ISSUER served over plain http', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { ISSUER: 'https://auth.example.test' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('marks the interaction cookies Secure on /auth', async () => {
    const response = await authorize(server);
    expect(response.status).toBe(303);
    const cookies = cookiesOf(response);
    expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(
      expect.arrayContaining(['_interaction', '_interaction_resume']),
    );
    for (const cookie of cookies) {
      expect(cookie).toMatch(/;\s*secure/i);
      expect(cookie).toMatch(/;\s*httponly/i);
    }
  });

  it('marks the session cookie of the sign-out page Secure', async () => {
    const response = await server.public().get('/session/end');
    const cookies = cookiesOf(response);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/;\s*secure/i);
  });

  it('logs no warning about the issuer', () => {
    expect(warnings(server)).toEqual([]);
  });
});

describe('a plain-http ISSUER', () => {
  it('on a non-loopback host starts with a warning naming it', async () => {
    const server = await startServer({ env: { ISSUER: 'http://tollgate.internal:8080' } });
    try {
      const [line] = warnings(server);
      expect(line).toBeDefined();
      const entry = JSON.parse(line!) as { level: number; issuer: string; msg: string };
      expect(entry.level).toBe(40);
      expect(entry.issuer).toBe('http://tollgate.internal:8080');
      expect(entry.msg).toContain('use an https ISSUER');
      // Over plain http with no https issuer, cookies still follow the request: not Secure.
      for (const cookie of cookiesOf(await server.public().get('/session/end')))
        expect(cookie).not.toMatch(/;\s*secure/i);
    } finally {
      await server.close();
    }
  });

  it('on the loopback starts quietly', async () => {
    const server = await startServer();
    try {
      expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(warnings(server)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
