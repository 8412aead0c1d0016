import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  protectExpress,
  protectKoa,
  type RequestScheme,
  type VerifiedCaller,
  type Verifier,
} from '@tollgate/resource-server';
import { generateApiKey } from '@tollgate/resource-server/api-key-format';
import { randomIp } from '../helpers/rate-limits.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, type Partner } from './api-key-helpers.js';
import { accessToken, RecordingFetch, SERVER_ENV } from './library-helpers.js';

// API keys through the Koa and Express middleware of @tollgate/resource-server, against a real
// Tollgate: what a partner's HTTP client sees. The rate-limit tests need the server's lease fields
// (rate_limit_granted, …, issue 17's server part).

let server: TestServer;
let partner: Partner;
let recording: RecordingFetch;
const listeners: http.Server[] = [];
const apps: Record<'koa' | 'express', { url: string; verifiers: Record<string, Verifier> }> = {
  koa: { url: '', verifiers: {} },
  express: { url: '', verifiers: {} },
};

/** The routes of both apps: which verifier (by name), which scopes and schemes. */
const ROUTES: Record<string, { verifier: string; scopes?: string[]; schemes?: RequestScheme[] }> = {
  '/orders': { verifier: 'main', schemes: ['bearer', 'api-key'] },
  '/orders/new': { verifier: 'main', scopes: ['write'], schemes: ['bearer', 'api-key'] },
  '/tokens-only': { verifier: 'main' },
  '/unreachable': { verifier: 'unreachable', schemes: ['api-key'] },
  '/uncached': { verifier: 'uncached', schemes: ['api-key'] },
};

function verifiers(): Record<string, Verifier> {
  const options = { issuer: server.issuer, audience: partner.api.identifier };
  return {
    main: createVerifier({ ...options, fetch: recording.fetch }),
    // A fetch of its own that can never reach Tollgate once discovery is done.
    unreachable: createVerifier({ ...options, timeout: 1, fetch: unreachableFetch }),
    // Asks on every request: makes the lease protocol's consume=0 observable without waiting.
    uncached: createVerifier({ ...options, apiKeyCacheSeconds: 0, fetch: recording.fetch }),
  };
}

let unreachable: RecordingFetch;
const unreachableFetch = (input: string | URL, init?: RequestInit) => unreachable.fetch(input, init);

const scopesOf = (names: string[] | undefined) =>
  names?.map((name) => (name === 'write' ? partner.api.scopes[1]! : partner.api.scopes[0]!));

function body(caller: VerifiedCaller) {
  return { scheme: caller.scheme, client_id: caller.client_id, key_id: 'key_id' in caller ? caller.key_id : null };
}

function koaApp(byName: Record<string, Verifier>): Koa {
  const app = new Koa();
  for (const [path, route] of Object.entries(ROUTES)) {
    const guard = protectKoa(byName[route.verifier]!, { scopes: scopesOf(route.scopes), schemes: route.schemes });
    app.use(async (ctx, next) => {
      if (ctx.path !== path) return next();
      await guard(ctx, async () => {
        ctx.body = body(ctx.state.auth as VerifiedCaller);
      });
    });
  }
  return app;
}

function expressApp(byName: Record<string, Verifier>): express.Express {
  const app = express();
  for (const [path, route] of Object.entries(ROUTES)) {
    const guard = protectExpress(byName[route.verifier]!, { scopes: scopesOf(route.scopes), schemes: route.schemes });
    app.get(path, guard, (req, res) => {
      res.json(body((req as express.Request & { auth: VerifiedCaller }).auth));
    });
  }
  return app;
}

async function listen(handler: http.RequestListener): Promise<string> {
  const listener = http.createServer(handler);
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  server = await startServer({ env: SERVER_ENV });
  partner = await createPartner(server);
  [recording, unreachable] = await Promise.all([RecordingFetch.create(), RecordingFetch.create()]);
  apps.koa.verifiers = verifiers();
  apps.express.verifiers = verifiers();
  const koa = koaApp(apps.koa.verifiers).callback();
  apps.koa.url = await listen((request, response) => void koa(request, response));
  apps.express.url = await listen(expressApp(apps.express.verifiers));
});

afterAll(async () => {
  for (const listener of listeners) {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
  await Promise.all([recording?.close(), unreachable?.close()]);
  await server?.close();
});

const INVALID_KEY_CHALLENGE = 'Bearer error="invalid_token", error_description="the API key is not valid"';

describe.each(['koa', 'express'] as const)('an API on %s accepting API keys', (name) => {
  const api = () => supertest(apps[name].url);

  it('serves a valid key in X-API-Key or Authorization: Bearer, with the caller on the request', async () => {
    const key = await issueKey(server, partner);
    const expected = { scheme: 'api-key', client_id: partner.client.client_id, key_id: key.id };
    for (const response of [
      await api().get('/orders').set('X-API-Key', key.key!),
      await api().get('/orders').set('Authorization', `Bearer ${key.key}`),
    ]) {
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual(expected);
      // A key without a rate limit gets no rate-limit headers.
      expect(response.headers['ratelimit-policy']).toBeUndefined();
      expect(response.headers.ratelimit).toBeUndefined();
    }
    // Access tokens keep working on the same route.
    const token = await accessToken(server, partner);
    const withToken = await api().get('/orders').set('Authorization', `Bearer ${token}`);
    expect(withToken.status).toBe(200);
    expect(withToken.body).toMatchObject({ scheme: 'bearer', key_id: null });
  });

  it('refuses every invalid key alike: 401 invalid_token with one description', async () => {
    const key = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${key.id}/revoke`).expect(200);
    const wrongChecksum = key.key!.slice(0, -1) + (key.key!.at(-1) === 'A' ? 'B' : 'A');
    const responses = [];
    for (const presented of [key.key!, generateApiKey(), wrongChecksum, 'tgk_short', 'hello'])
      responses.push(await api().get('/orders').set('X-API-Key', presented));
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(INVALID_KEY_CHALLENGE);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({ error: 'invalid_token', error_description: 'the API key is not valid' });
      expect(response.text).not.toContain(key.key!.slice(4));
    }
  });

  it('403 insufficient_scope for a key without the route scope; 400 for two different credentials', async () => {
    const key = await issueKey(server, partner);
    const denied = await api().get('/orders/new').set('X-API-Key', key.key!);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_scope');
    expect(denied.headers['www-authenticate']).toContain(`scope="${partner.api.scopes[1]}"`);

    const token = await accessToken(server, partner);
    const both = await api().get('/orders').set('X-API-Key', key.key!).set('Authorization', `Bearer ${token}`);
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
  });

  it('a route with the default schemes refuses a tgk_ bearer with 401 and does not read X-API-Key', async () => {
    const key = await issueKey(server, partner);
    const bearer = await api().get('/tokens-only').set('Authorization', `Bearer ${key.key}`);
    expect(bearer.status).toBe(401);
    expect(bearer.headers['www-authenticate']).toBe(INVALID_KEY_CHALLENGE);
    const header = await api().get('/tokens-only').set('X-API-Key', key.key!);
    expect(header.status).toBe(401);
    expect(header.body.error).toBeUndefined(); // no credentials for this route: RFC 6750 §3.1
  });

  it('503 temporarily_unavailable when Tollgate cannot be asked, and serves again once it can', async () => {
    const key = await issueKey(server, partner);
    unreachable.route = 'refused';
    try {
      for (const presented of [key.key!, generateApiKey()]) {
        const response = await api().get('/unreachable').set('X-API-Key', presented);
        expect(response.status).toBe(503);
        expect(response.body.error).toBe('temporarily_unavailable');
        expect(response.headers['www-authenticate']).toBeUndefined();
      }
    } finally {
      unreachable.route = 'tollgate';
    }
    expect((await api().get('/unreachable').set('X-API-Key', key.key!)).status).toBe(200);
  });

  it('the schemes option is checked when the middleware is made: unknown schemes are a TypeError', () => {
    const verifier = apps[name].verifiers.main!;
    const protect = name === 'koa' ? protectKoa : protectExpress;
    expect(() => protect(verifier, { schemes: ['mtls'] })).not.toThrow();
    expect(() => protect(verifier, { schemes: ['signature'] })).not.toThrow();
    expect(() => protect(verifier, { schemes: ['nope' as never] })).toThrow(TypeError);
  });
});

// These need the server's lease fields (rate_limit_granted, rate_limit_remaining, rate_limit_reset).
describe.each(['koa', 'express'] as const)('a rate-limited API key on %s', (name) => {
  const api = () => supertest(apps[name].url);

  it('sends RateLimit-Policy and RateLimit on every response, then 429 rate_limited with Retry-After', async () => {
    const key = await issueKey(server, partner, { rate_limit: '3/min' });
    const remaining: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await api().get('/orders').set('X-API-Key', key.key!);
      expect(response.status, response.text).toBe(200);
      expect(response.headers['ratelimit-policy']).toBe('"api-key";q=3;w=60');
      remaining.push(response.headers.ratelimit ?? '');
    }
    // One point per question (floor(3/50) → 1): remaining is the shared count's.
    expect(remaining.map((value) => /;r=(\d+);/.exec(value)?.[1])).toEqual(['2', '1', '0']);
    for (const value of remaining) expect(value).toMatch(/^"api-key";r=\d+;t=([1-9]|[1-5]\d|60)$/);

    const refused = await api().get('/orders').set('Authorization', `Bearer ${key.key}`);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
    expect(refused.headers['retry-after']).toMatch(/^([1-9]|[1-5]\d|60)$/);
    expect(refused.headers['ratelimit-policy']).toBe('"api-key";q=3;w=60');
    expect(refused.headers.ratelimit).toBe(`"api-key";r=0;t=${refused.headers['retry-after']}`);
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('concurrent requests share the points of one question at a time: exactly the limit is served', async () => {
    const key = await issueKey(server, partner, { rate_limit: '5/min' });
    const before = recording.questions.length;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => api().get('/orders').set('X-API-Key', key.key!)),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(5);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(3);
    const asked = recording.questions.slice(before).filter((question) => question.form!.get('token') === key.key);
    // One question per point granted (1 each for 5/min), one at a time; the last grant left the
    // shared count at 0, so the other three are refused from it without asking again.
    expect(asked.length).toBe(5);
  });

  it('a larger limit leases several points per question; every request spends one', async () => {
    const key = await issueKey(server, partner, { rate_limit: '100/min' });
    const before = recording.questions.length;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api().get('/orders').set('X-API-Key', key.key!)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    // Two points per question (floor(100/50)): five questions for ten requests.
    const asked = recording.questions.slice(before).filter((question) => question.form!.get('token') === key.key);
    expect(asked).toHaveLength(5);
    const remaining = responses.map((response) => Number(/;r=(\d+);/.exec(response.headers.ratelimit ?? '')?.[1]));
    expect(remaining.sort((a, b) => a - b)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('re-verifies with consume=0 while it still holds points, so unspent points are not charged again', async () => {
    const key = await issueKey(server, partner, { rate_limit: '100/min' });
    const before = recording.questions.length;
    const remaining = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await api().get('/uncached').set('X-API-Key', key.key!);
      expect(response.status).toBe(200);
      remaining.push(/;r=(\d+);/.exec(response.headers.ratelimit ?? '')?.[1]);
    }
    const asked = recording.questions.slice(before).filter((question) => question.form!.get('token') === key.key);
    expect(asked.map((question) => question.form!.get('consume'))).toEqual(['1', '0', '1']);
    expect(remaining).toEqual(['99', '98', '97']);
  });
});

describe('Tollgate refusing further questions (its per-address limit on refused keys)', () => {
  it('is a 503 for the caller, never a 401', async () => {
    // An address of its own: on a shared PostgreSQL, other files' refused keys from 127.0.0.1 count too.
    const env = { API_KEY_VERIFICATION_FAILURE_LIMIT: '2/min', TRUST_PROXY: '1' };
    const strict = await startServer({ env });
    const address = randomIp();
    const fromAddress = (input: string | URL, init?: RequestInit) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': address } });
    try {
      const verifier = createVerifier({
        issuer: strict.issuer,
        audience: 'https://api.example.com',
        fetch: fromAddress,
      });
      const statuses: number[] = [];
      for (let index = 0; index < 4; index += 1) {
        const outcome = await verifier
          .verifyRequest(
            { method: 'GET', url: 'http://api.example.com/', headers: { 'x-api-key': generateApiKey() } },
            { schemes: ['api-key'] },
          )
          .catch((error: { status: number }) => error);
        statuses.push((outcome as { status: number }).status);
      }
      expect(statuses.slice(0, 2)).toEqual([401, 401]);
      expect(statuses.slice(2)).toEqual([503, 503]);
    } finally {
      await strict.close();
    }
  });
});
