import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';
import Router from '@koa/router';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  protectExpress,
  protectKoa,
  type AccessTokenClaims,
  type Verifier,
} from '@tollgate/resource-server';
import { requestListener } from '../../src/lib/request-listener.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The whole path an API relies on: a real Tollgate issues a DPoP-bound token to openid-client,
 * and a Koa and an Express API protected by @tollgate/resource-server accept it only with its proof.
 */

let server: TestServer;
let api: ApiFixture;
let client: ClientFixture;
let config: oidc.Configuration;
let verifier: Verifier;
const apis: Record<'koa' | 'express', string> = { koa: '', express: '' };
const listeners: http.Server[] = [];

function handlerBody(claims: AccessTokenClaims) {
  return { sub: claims.sub, client_id: claims.client_id, scope: claims.scope, jkt: claims.cnf?.jkt ?? null };
}

function koaApi(): Koa {
  const app = new Koa();
  const router = new Router();
  const respond = (ctx: Koa.Context) => {
    ctx.body = handlerBody(ctx.state.auth as AccessTokenClaims);
  };
  router.get('/orders', protectKoa(verifier, { scopes: [api.scopes[0]!] }), respond);
  router.get('/orders/new', protectKoa(verifier, { scopes: [api.scopes[1]!] }), respond);
  app.use(router.routes());
  return app;
}

function expressApi(): express.Express {
  const app = express();
  const respond = (req: express.Request, res: express.Response) => {
    res.json(handlerBody((req as express.Request & { auth: AccessTokenClaims }).auth));
  };
  app.get('/orders', protectExpress(verifier, { scopes: [api.scopes[0]!] }), respond);
  app.get('/orders/new', protectExpress(verifier, { scopes: [api.scopes[1]!] }), respond);
  return app;
}

async function listen(handler: http.RequestListener): Promise<string> {
  const listener = http.createServer(handler);
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** A separate client configuration whose requests go through `intercept` (openid-client's customFetch). */
async function interceptingConfig(
  intercept: (url: string, init: oidc.CustomFetchOptions) => Promise<Response>,
): Promise<oidc.Configuration> {
  const intercepted = await oidc.discovery(
    new URL(server.issuer),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client.client_secret),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  intercepted[oidc.customFetch] = intercept as never;
  return intercepted;
}

async function dpopToken(scope = api.scopes[0]!) {
  const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  const tokens = await oidc.clientCredentialsGrant(config, { scope, resource: api.identifier }, { DPoP });
  return { DPoP, tokens };
}

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
  client = await createServiceClient(server, api.scopes);
  config = await oidc.discovery(
    new URL(server.issuer),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client.client_secret),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  verifier = createVerifier({ issuer: server.issuer, audience: api.identifier });
  apis.koa = await listen(requestListener(koaApi()));
  apis.express = await listen(expressApi());
});

afterAll(async () => {
  for (const listener of listeners) {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
  await server?.close();
});

describe('Tollgate issues DPoP-bound tokens', () => {
  it('to openid-client with a DPoP key: token_type DPoP, cnf.jkt in the JWT', async () => {
    const { tokens } = await dpopToken();
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(payloadOf(tokens.access_token).cnf).toEqual({ jkt: expect.any(String) });
  });
});

describe.each(['koa', 'express'] as const)('an API on %s protected by @tollgate/resource-server', (name) => {
  const url = (path: string) => new URL(`${apis[name]}${path}`);

  it("accepts the DPoP-bound token with openid-client's proof", async () => {
    const { DPoP, tokens } = await dpopToken();
    const response = await oidc.fetchProtectedResource(
      config,
      tokens.access_token,
      url('/orders'),
      'GET',
      undefined,
      undefined,
      { DPoP },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      sub: client.client_id,
      client_id: client.client_id,
      scope: api.scopes[0],
      jkt: payloadOf(tokens.access_token).cnf && (payloadOf(tokens.access_token).cnf as { jkt: string }).jkt,
    });
  });

  it('refuses the same token without its proof, as a bearer token, or with a replayed proof', async () => {
    const { DPoP, tokens } = await dpopToken();
    const noProof = await fetch(url('/orders'), { headers: { authorization: `DPoP ${tokens.access_token}` } });
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token", .*algs="ES256/);

    const asBearer = await fetch(url('/orders'), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).toBe(401);
    expect(((await asBearer.json()) as { error: string }).error).toBe('invalid_token');

    // Capture the proof openid-client sends, then send it again.
    let proof: string | null = null;
    const capturing = await interceptingConfig((input, init) => {
      proof = new Headers(init.headers).get('dpop');
      return fetch(input, init as RequestInit);
    });
    expect(
      (
        await oidc.fetchProtectedResource(capturing, tokens.access_token, url('/orders'), 'GET', undefined, undefined, {
          DPoP,
        })
      ).status,
    ).toBe(200);
    expect(proof).toBeTruthy();
    const replayed = await fetch(url('/orders'), {
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof! },
    });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: string }).error).toBe('invalid_dpop_proof');
  });

  it('refuses a proof made for another URL', async () => {
    const { DPoP, tokens } = await dpopToken();
    let proof: string | null = null;
    const capturing = await interceptingConfig(async (_input, init) => {
      proof = new Headers(init.headers).get('dpop');
      return new Response('{}', { status: 200 });
    });
    await oidc.fetchProtectedResource(capturing, tokens.access_token, url('/elsewhere'), 'GET', undefined, undefined, {
      DPoP,
    });
    const response = await fetch(url('/orders'), {
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof! },
    });
    expect(response.status).toBe(401);
  });

  it("answers 403 insufficient_scope when the token lacks the route's scope", async () => {
    const { DPoP, tokens } = await dpopToken(api.scopes[0]!);
    // openid-client parses the challenge itself: a fair test that it is well-formed.
    const error = await oidc
      .fetchProtectedResource(config, tokens.access_token, url('/orders/new'), 'GET', undefined, undefined, { DPoP })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    const challenge = error as oidc.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(403);
    expect(challenge.cause).toEqual([
      {
        scheme: 'dpop',
        parameters: {
          error: 'insufficient_scope',
          error_description: expect.any(String),
          scope: api.scopes[1],
          algs: expect.stringMatching(/^ES256 /),
        },
      },
    ]);
  });

  it('accepts a plain bearer token from a client that sent no DPoP proof', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes.join(' '), resource: api.identifier });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    for (const path of ['/orders', '/orders/new']) {
      const response = await fetch(url(path), { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(response.status, path).toBe(200);
    }
  });

  it('answers 401 with a challenge and no error code when no token is sent', async () => {
    const response = await fetch(url('/orders'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer, DPoP algs="/);
  });

  it('refuses a token Tollgate issued for another API', async () => {
    const otherApi = await createApi(server);
    const otherClient = await createServiceClient(server, [otherApi.scopes[0]!]);
    const otherConfig = await oidc.discovery(
      new URL(server.issuer),
      otherClient.client_id,
      undefined,
      oidc.ClientSecretBasic(otherClient.client_secret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const tokens = await oidc.clientCredentialsGrant(otherConfig, { resource: otherApi.identifier });
    const response = await fetch(url('/orders'), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="the token is for another audience"',
    );
  });
});

describe('the package', () => {
  it('fetched the JWKS through discovery once for all of the above', () => {
    expect(verifier.status()).toMatchObject({ lastError: undefined });
    expect(verifier.status().keys).toBeGreaterThanOrEqual(2);
  });

  it('is also exported by the server package as tollgate/resource-server', async () => {
    const script =
      "import('tollgate/resource-server').then((m) => console.log(typeof m.createVerifier, typeof m.protectKoa, typeof m.protectExpress))";
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: process.cwd() });
    expect(stdout.trim()).toBe('function function function');
  });
});
