import http from 'node:http';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { gated } from '../../src/web/path-gate.js';
import { requestListener } from '../../src/lib/request-listener.js';

/** A Koa app: a gated middleware that answers /mine and records what it saw, then a fallback. */
function app() {
  const seen: string[] = [];
  const koa = new Koa();
  koa.use(
    gated(
      (ctx) => ctx.path === '/mine',
      async (ctx, next) => {
        seen.push(ctx.path);
        if (ctx.query.through === '1') {
          await next();
          ctx.set('X-After', 'yes');
          return;
        }
        ctx.body = { handled: true };
      },
    ),
  );
  koa.use((ctx) => {
    ctx.body = { fallback: ctx.path };
  });
  const server = http.createServer(requestListener(koa));
  return { seen, server };
}

describe('gated middleware', () => {
  it('runs only for the requests it applies to; the others go straight on', async () => {
    const { seen, server } = app();
    const other = await request(server).get('/other');
    expect(other.body).toEqual({ fallback: '/other' });
    expect(seen).toEqual([]);

    const mine = await request(server).get('/mine');
    expect(mine.body).toEqual({ handled: true });
    expect(seen).toEqual(['/mine']);
  });

  it('lets the gated middleware call next and work after it', async () => {
    const { server } = app();
    const response = await request(server).get('/mine?through=1');
    expect(response.body).toEqual({ fallback: '/mine' });
    expect(response.headers['x-after']).toBe('yes');
  });

  it('passes an error thrown by the gated middleware to Koa like any other', async () => {
    const koa = new Koa();
    koa.silent = true;
    koa.use(
      gated(
        () => true,
        async () => {
          throw Object.assign(new Error('refused'), { status: 418, expose: true });
        },
      ),
    );
    const response = await request(http.createServer(requestListener(koa))).get('/');
    expect(response.status).toBe(418);
    expect(response.text).toBe('refused');
  });
});
