import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, protectExpress, protectKoa, type AccessTokenClaims, type Verifier } from '../src/index.js';
import { AUDIENCE, DPoPKey, TestIssuer } from './helpers/issuer.js';

let issuer: TestIssuer;
let verifier: Verifier;
const servers: http.Server[] = [];

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function koaApp(): Koa {
  const app = new Koa();
  app.silent = true; // The /boom route's error is expected; keep the test output clean.
  const read = protectKoa(verifier, { scopes: ['orders:read'] });
  const write = protectKoa(verifier, { scopes: ['orders:write'] });
  app.use(async (ctx, next) => {
    if (ctx.path === '/orders')
      return read(ctx, async () => {
        ctx.body = { sub: (ctx.state.auth as AccessTokenClaims).sub };
      });
    if (ctx.path === '/admin')
      return write(ctx, async () => {
        ctx.body = { ok: true };
      });
    if (ctx.path === '/boom')
      return read(ctx, async () => {
        throw new Error('route failure');
      });
    return next();
  });
  return app;
}

function expressApp(): express.Express {
  const app = express();
  app.get('/orders', protectExpress(verifier, { scopes: ['orders:read'] }), (req, res) => {
    res.json({ sub: (req as express.Request & { auth: AccessTokenClaims }).auth.sub });
  });
  app.get('/admin', protectExpress(verifier, { scopes: ['orders:write'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/boom', protectExpress(verifier), () => {
    throw new Error('route failure');
  });
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'server_error' });
  });
  return app;
}

const apps: Record<string, string> = {};

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  const koa = koaApp().callback();
  // Koa answers every error itself: the promise its handler returns never rejects.
  apps.koa = await listen((request, response) => void koa(request, response));
  apps.express = await listen(expressApp());
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await issuer.close();
});

describe('types', () => {
  it("fit Koa's app.use and Express's app.use without casts", () => {
    expect(new Koa().use(protectKoa(verifier)).middleware).toHaveLength(1);
    expect(express().use(protectExpress(verifier))).toBeTruthy();
  });
});

describe.each(['koa', 'express'])('%s middleware', (name) => {
  const call = (path: string, headers: Record<string, string> = {}) => fetch(`${apps[name]}${path}`, { headers });

  it('200 with the claims for handlers', async () => {
    const response = await call('/orders', { authorization: `Bearer ${await issuer.token({ sub: 'user_1' })}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'user_1' });
  });

  it('401 without an error code when there is no token', async () => {
    const response = await call('/orders');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer, DPoP algs="/);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ error_description: 'an access token is required' });
  });

  it('401 invalid_token for a bad token, with a JSON body', async () => {
    const response = await call('/orders', {
      authorization: `Bearer ${await issuer.token({ aud: 'https://other.example.com' })}`,
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="the token is for another audience"',
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'the token is for another audience',
    });
  });

  it('400 invalid_request for a malformed header', async () => {
    const response = await call('/orders', { authorization: 'Bearer a b' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('403 insufficient_scope', async () => {
    const response = await call('/admin', { authorization: `Bearer ${await issuer.token({ scope: 'orders:read' })}` });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="orders:write"/);
    expect(((await response.json()) as { error: string }).error).toBe('insufficient_scope');
  });

  it("DPoP: the proof is read from the DPoP header and bound to this request's method and URL", async () => {
    const holder = await DPoPKey.generate();
    const token = await issuer.boundToken(holder, { sub: 'user_2' });
    const url = `${apps[name]}/orders`;
    const ok = await call('/orders?x=1', {
      authorization: `DPoP ${token}`,
      dpop: await holder.proof('GET', url, token),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: 'user_2' });

    const proof = await holder.proof('GET', url, token);
    expect((await call('/orders', { authorization: `DPoP ${token}`, dpop: proof })).status).toBe(200);
    const replayed = await call('/orders', { authorization: `DPoP ${token}`, dpop: proof });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", .*algs="/);

    const noProof = await call('/orders', { authorization: `DPoP ${token}` });
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);

    const asBearer = await call('/orders', {
      authorization: `Bearer ${token}`,
      dpop: await holder.proof('GET', url, token),
    });
    expect(asBearer.status).toBe(401);

    const otherPath = await call('/admin', {
      authorization: `DPoP ${token}`,
      dpop: await holder.proof('GET', url, token),
    });
    expect(otherPath.status).toBe(401);
  });

  it('leaves the errors of the route behind it alone', async () => {
    const response = await call('/boom', { authorization: `Bearer ${await issuer.token()}` });
    expect(response.status).toBe(500);
  });
});
