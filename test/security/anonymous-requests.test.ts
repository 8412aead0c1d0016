import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { onPostgres, unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { rateLimited } from '../helpers/rate-limits.js';

/**
 * Issue 14 item 7: requests from someone who has proved nothing store little and short-lived.
 * Sessions without a signed-in account live minutes; the endpoints that store something for
 * such a caller are limited per client address (429 + Retry-After beyond the limit).
 *
 * The server trusts one proxy hop so each test speaks from its own made-up address: counters
 * live in the database, which test files share on PostgreSQL.
 */
const LIMIT = 5;
const PASSWORD = 'amber-kettle-58-sparrow';
const REDIRECT_URI = 'https://app.example.com/callback';
const DAY = 86_400;

function randomIp(): string {
  const octet = () => crypto.randomInt(1, 255);
  return `198.18.${octet()}.${octet()}`;
}

function cookie(response: { headers: Record<string, unknown> }, name: string): string | undefined {
  return ([] as string[])
    .concat((response.headers['set-cookie'] as string[] | undefined) ?? [])
    .find((line) => line.startsWith(`${name}=`));
}

/** Seconds from now until the cookie's Expires. */
function secondsLeft(line: string): number {
  const expires = /;\s*expires=([^;]+)/i.exec(line)?.[1];
  expect(expires, line).toBeDefined();
  return (Date.parse(expires!) - Date.now()) / 1000;
}

function authorizationQuery(clientId: string) {
  return {
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    state: 's',
    code_challenge: crypto
      .createHash('sha256')
      .update(crypto.randomBytes(32).toString('base64url'))
      .digest('base64url'),
    code_challenge_method: 'S256',
  };
}

describe('anonymous requests', () => {
  let server: TestServer;
  let webClient: string;
  let deviceClient: string;
  let confidentialDevice: { client_id: string; client_secret: string };
  let username: string;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: 'true', ANONYMOUS_RATE_LIMIT: `${LIMIT}/min` } });
    webClient = (
      await server.admin('post', '/clients', {
        name: unique('web-'),
        grant_types: ['authorization_code'],
        redirect_uris: [REDIRECT_URI],
        scopes: ['openid'],
        first_party: true,
      })
    ).body.client_id;
    deviceClient = (
      await server.admin('post', '/clients', {
        name: unique('tv-'),
        grant_types: ['device_code'],
        public: true,
        scopes: ['openid'],
      })
    ).body.client_id;
    confidentialDevice = (
      await server.admin('post', '/clients', {
        name: unique('kiosk-'),
        grant_types: ['device_code'],
        scopes: ['openid'],
      })
    ).body;
    username = unique('nora-');
    expect((await server.admin('post', '/users', { username, password: PASSWORD })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('sessions', () => {
    it('without a signed-in account live minutes, not days (sign-out and device pages)', async () => {
      for (const path of ['/session/end', '/device']) {
        const response = await server.public().get(path).set('X-Forwarded-For', randomIp());
        expect(response.status, path).toBe(200);
        const session = cookie(response, '_session');
        expect(session, path).toBeDefined();
        const left = secondsLeft(session!);
        expect(left, path).toBeGreaterThan(60);
        expect(left, path).toBeLessThanOrEqual(600 + 5);
      }
    });

    it('of a signed-in account live SESSION_TTL (14 days by default)', async () => {
      const agent = server.public();
      const ip = randomIp();
      const start = await agent.get('/auth').set('X-Forwarded-For', ip).query(authorizationQuery(webClient));
      expect(start.status).toBe(303);
      const page = await agent
        .get(new URL(start.headers.location as string, server.issuer).pathname)
        .set('X-Forwarded-For', ip);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
      expect(csrf && action, page.text).toBeTruthy();
      const login = await agent
        .post(action!)
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ csrf, username, password: PASSWORD });
      expect(login.status).toBe(303);
      const resume = await agent
        .get(new URL(login.headers.location as string, server.issuer).pathname)
        .set('X-Forwarded-For', ip);
      const session = cookie(resume, '_session');
      expect(session, JSON.stringify(resume.headers)).toBeDefined();
      expect(secondsLeft(session!)).toBeGreaterThan(14 * DAY - 60);
    });
  });

  describe('per client address', () => {
    it('limits the pages that start a session, then answers 429 with Retry-After and a readable page', async () => {
      const ip = randomIp();
      for (let i = 0; i < LIMIT; i += 1) {
        const path = i % 2 ? '/device' : '/session/end';
        expect((await server.public().get(path).set('X-Forwarded-For', ip)).status, `${path} #${i}`).toBe(200);
      }
      const before = await rateLimited(server, 'anonymous');
      const refused = await server.public().get('/session/end').set('X-Forwarded-For', ip);
      expect(refused.status).toBe(429);
      expect(await rateLimited(server, 'anonymous')).toBe(before + 1);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(refused.type).toBe('text/html');
      expect(refused.text).toContain('Too many requests');
      expect(cookie(refused, '_session')).toBeUndefined();
      // Another address is not affected.
      expect((await server.public().get('/session/end').set('X-Forwarded-For', randomIp())).status).toBe(200);
    });

    it('limits the authorization endpoint with a page', async () => {
      const ip = randomIp();
      for (let i = 0; i < LIMIT; i += 1) {
        expect(
          (await server.public().get('/auth').set('X-Forwarded-For', ip).query(authorizationQuery(webClient))).status,
        ).toBe(303);
      }
      const refused = await server
        .public()
        .get('/auth')
        .set('X-Forwarded-For', ip)
        .query(authorizationQuery(webClient));
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.text).toContain('Too many requests');
      expect(refused.headers['set-cookie']).toBeUndefined();
    });

    it('limits device authorization for a public client with RFC 6749 JSON, but not an authenticated client', async () => {
      const ip = randomIp();
      for (let i = 0; i < LIMIT; i += 1) {
        const response = await server
          .public()
          .post('/device/auth')
          .set('X-Forwarded-For', ip)
          .type('form')
          .send({ client_id: deviceClient, scope: 'openid' });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      }
      const refused = await server
        .public()
        .post('/device/auth')
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ client_id: deviceClient, scope: 'openid' });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.type).toBe('application/json');
      expect(refused.body.error).toBe('temporarily_unavailable');
      expect(refused.body.error_description).toMatch(/retry after \d+ second/);

      const basic = await server
        .public()
        .post('/device/auth')
        .set('X-Forwarded-For', ip)
        .auth(confidentialDevice.client_id, confidentialDevice.client_secret)
        .type('form')
        .send({ scope: 'openid' });
      expect(basic.status, JSON.stringify(basic.body)).toBe(200);
      const post = await server.public().post('/device/auth').set('X-Forwarded-For', ip).type('form').send({
        client_id: confidentialDevice.client_id,
        client_secret: confidentialDevice.client_secret,
        scope: 'openid',
      });
      expect(post.status, JSON.stringify(post.body)).toBe(200);
    });

    it('limits pushed authorization requests of a public client', async () => {
      const spa = (
        await server.admin('post', '/clients', {
          name: unique('spa-'),
          grant_types: ['authorization_code'],
          public: true,
          redirect_uris: [REDIRECT_URI],
          scopes: ['openid'],
        })
      ).body.client_id as string;
      const ip = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i <= LIMIT; i += 1) {
        statuses.push(
          (await server.public().post('/request').set('X-Forwarded-For', ip).type('form').send(authorizationQuery(spa)))
            .status,
        );
      }
      expect(statuses).toEqual([...Array(LIMIT).fill(201), 429]);
    });

    it('keeps its counters in a table the sweeper cleans', async () => {
      await expect(server.tollgate.sweepExpired()).resolves.toBeGreaterThanOrEqual(0);
      const [row] = await server.tollgate.database
        .knex('rate_limits')
        .count({ count: '*' })
        .where('key', 'like', 'anonymous:%');
      expect(Number(row!.count)).toBeGreaterThan(0);
    });
  });
});

describe.skipIf(!onPostgres)('the anonymous-request limit on PostgreSQL', () => {
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    const env = { TRUST_PROXY: 'true', ANONYMOUS_RATE_LIMIT: `${LIMIT}/min` };
    [first, second] = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  it('holds under concurrent requests across two instances', async () => {
    const ip = randomIp();
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? first : second).public().get('/session/end').set('X-Forwarded-For', ip),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(24 - LIMIT);
  });
});

describe('ANONYMOUS_RATE_LIMIT', () => {
  it('defaults to 60 a minute and accepts N/s, N/min, N/h', () => {
    expect(loadConfig({}).anonymousRateLimit).toEqual({ points: 60, durationSeconds: 60 });
    expect(loadConfig({ ANONYMOUS_RATE_LIMIT: '10/s' }).anonymousRateLimit).toEqual({ points: 10, durationSeconds: 1 });
    expect(loadConfig({ ANONYMOUS_RATE_LIMIT: '1000/h' }).anonymousRateLimit).toEqual({
      points: 1000,
      durationSeconds: 3600,
    });
  });

  it('refuses what is not a rate, naming the variable', () => {
    for (const bad of ['60', '0/min', '-1/min', '60/day', 'lots']) {
      expect(() => loadConfig({ ANONYMOUS_RATE_LIMIT: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ ANONYMOUS_RATE_LIMIT: bad }), bad).toThrow(/ANONYMOUS_RATE_LIMIT/);
    }
  });
});
