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
  type SignatureCaller,
  type Verifier,
} from '@tollgate/resource-server';
import { startServer, type TestServer } from '../helpers/server.js';
import { createSignaturePartner, sign, SERVER_ENV, type SignaturePartner } from './library-helpers.js';

// Signed requests through the Koa and Express middleware of @tollgate/resource-server, against a
// real Tollgate: the middleware reads the raw body itself (the Content-Digest is over the bytes
// received), keeps it for the handlers, and tells a misconfigured app (a body parser mounted before
// it, keeping no raw bytes) with a TypeError. NEEDS THE SERVER BRANCH of issue 18 (the two
// signature endpoints): without it every signed request here is a 503.

let server: TestServer;
let partner: SignaturePartner;
let verifier: Verifier;
const listeners: http.Server[] = [];
const urls = { koa: '', express: '' };
/** The errors each app's error handler saw: the TypeError of a body parser mounted first. */
const appErrors: Record<'koa' | 'express', Error[]> = { koa: [], express: [] };

const BODY = '{"sku":"A-1","qty":2}';

/** What the handlers answer: the caller, and the body as the handler can read it. */
function echo(caller: SignatureCaller, raw: unknown, parsed: unknown) {
  return {
    client_id: caller.client_id,
    keyid: caller.keyid,
    raw: Buffer.isBuffer(raw) ? raw.toString('utf8') : raw,
    parsed: parsed ?? null,
  };
}

/** Reads the request the way a body parser does: the stream consumed, the raw bytes kept or not. */
async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function koaApp(): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: Error) => appErrors.koa.push(error));
  const guard = protectKoa(verifier, { schemes: ['signature'], scopes: [partner.api.scopes[0]!] });
  app.use(async (ctx, next) => {
    const request = ctx.request as typeof ctx.request & { rawBody?: unknown; body?: unknown };
    if (ctx.path === '/parsed-first') request.body = JSON.parse((await readAll(ctx.req)).toString('utf8'));
    if (ctx.path === '/parsed-kept') {
      request.rawBody = (await readAll(ctx.req)).toString('utf8');
      request.body = JSON.parse(request.rawBody as string);
    }
    await guard(ctx, async () => {
      ctx.body = echo(ctx.state.auth as SignatureCaller, request.rawBody, request.body);
    });
    return next();
  });
  return app;
}

function expressApp(): express.Express {
  const app = express();
  const guard = protectExpress(verifier, { schemes: ['signature'], scopes: [partner.api.scopes[0]!] });
  const handler = (req: express.Request, res: express.Response) => {
    const withAuth = req as express.Request & { auth: SignatureCaller; rawBody?: unknown };
    res.json(echo(withAuth.auth, withAuth.rawBody, req.body));
  };
  app.post('/orders', guard, handler);
  app.post('/parsed-first', express.json(), guard, handler);
  app.post(
    '/parsed-kept',
    express.json({
      verify: (req, _res, buffer) => {
        (req as http.IncomingMessage & { rawBody?: Buffer }).rawBody = buffer;
      },
    }),
    guard,
    handler,
  );
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    appErrors.express.push(error);
    res.status(500).json({ error: 'server_error' });
  });
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
  partner = await createSignaturePartner(server);
  verifier = createVerifier({ issuer: server.issuer, audience: partner.api.identifier });
  const koa = koaApp().callback();
  urls.koa = await listen((request, response) => void koa(request, response));
  urls.express = await listen(expressApp());
});

afterAll(async () => {
  for (const listener of listeners) {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
  await server?.close();
});

/** Sends a signed POST of `body` to the app's `path`, with the signature made for exactly that. */
function send(name: 'koa' | 'express', path: string, body: string, change: { body?: string } = {}) {
  const url = `${urls[name]}${path}`;
  const signed = sign(partner.keys.ed25519, {
    method: 'POST',
    url,
    body,
    headers: { 'content-type': 'application/json' },
  });
  return supertest(urls[name])
    .post(path)
    .set(signed.headers)
    .send(change.body ?? body);
}

describe.each(['koa', 'express'] as const)('an API on %s accepting signed requests', (name) => {
  it('accepts a signed JSON body: the middleware reads the raw body and keeps it for the handler', async () => {
    const response = await send(name, '/orders', BODY);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      client_id: partner.clientId,
      keyid: partner.keys.ed25519.keyid,
      raw: BODY,
      parsed: null,
    });
  });

  it('a body changed in transit is 401 invalid_signature with WWW-Authenticate and Accept-Signature', async () => {
    const response = await send(name, '/orders', BODY, { body: BODY.replace('2', '9') });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_signature' });
    expect(response.headers['www-authenticate']).toMatch(/^Signature error="invalid_signature"/);
    expect(response.headers['accept-signature']).toBe('sig1=("@method" "@target-uri" "content-digest");created;nonce');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('an unsigned request is 401 with Accept-Signature naming what to sign', async () => {
    const response = await supertest(urls[name]).post('/orders').type('json').send(BODY);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_signature' });
    expect(response.headers['accept-signature']).toMatch(/^sig1=\("@method" "@target-uri"/);
  });

  it('a body over 1 MiB is 413, before any signature check', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });
    const response = await send(name, '/orders', big);
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
  });

  it('a body parser that keeps the raw bytes (rawBody) may come first: the signature is checked against them', async () => {
    const response = await send(name, '/parsed-kept', BODY);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ raw: BODY, parsed: JSON.parse(BODY) });
  });

  it('a body parser mounted before it without keeping the raw bytes: a TypeError for the operator, never a 2xx', async () => {
    const before = appErrors[name].length;
    const response = await send(name, '/parsed-first', BODY);
    expect(response.status).toBe(500);
    const error = appErrors[name].slice(before).find((seen) => seen instanceof TypeError);
    expect(error?.message).toMatch(/mount it before the body parser/);
  });
});
