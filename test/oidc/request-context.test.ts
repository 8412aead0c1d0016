/**
 * Guards patches/oidc-provider+*.patch (the patch says why): oidc-provider must give each request
 * its OIDCContext as a plain `ctx.oidc` property, not through a new getter closure per request,
 * which kept every request alive through young-generation GCs. Fails when the patch is missing:
 * installed with --ignore-scripts, or an oidc-provider upgrade the patch no longer fits.
 */
import http from 'node:http';
import type Koa from 'koa';
import supertest from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestListener } from '../../src/lib/request-listener.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
});

it('gives each request its OIDC context as a plain property, not a getter closure of its own', async () => {
  const provider = server.tollgate.provider;
  const seen: (PropertyDescriptor | undefined)[] = [];
  // Runs around oidc-provider's router, so after `next()` the route has set ctx.oidc. Tollgate
  // composed the provider's middleware when it mounted it, so the provider is served directly.
  provider.use(async (ctx: Koa.Context, next: Koa.Next) => {
    await next();
    seen.push(Object.getOwnPropertyDescriptor(ctx, 'oidc'));
  });
  const direct = http.createServer(requestListener(provider));

  for (let i = 0; i < 2; i += 1) {
    const response = await supertest(direct).get('/.well-known/openid-configuration');
    expect(response.status).toBe(200);
  }

  expect(seen).toHaveLength(2);
  for (const descriptor of seen) {
    expect(descriptor?.get).toBeUndefined();
    expect(descriptor?.value).toBeInstanceOf(provider.OIDCContext);
    expect(descriptor?.value.route).toBe('discovery');
  }
  expect(seen[0]!.value).not.toBe(seen[1]!.value);
});
