import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Koa from 'koa';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { errorBoundary, noteProviderServerError } from '../../src/http/error-boundary.js';
import { requestListener } from '../../src/lib/request-listener.js';
import { createLogger } from '../../src/log.js';
import { TEST_DATABASE_URL } from '../helpers/database.js';

/**
 * The last resort behind the input guard (issue 14 item 5c): whatever input still makes the
 * database refuse a query (SQLSTATE class 22) is a 400, and a database out of reach a 503 — on JSON
 * endpoints and pages, thrown or answered by oidc-provider. The input guard stops every such value
 * a request can carry today, so these failures are produced here with the real database driver.
 */
describe('the error boundary', () => {
  let database: Database;
  let unreachable: Database;
  const logs: string[] = [];
  let app: Koa;

  beforeAll(async () => {
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    database = await openDatabase({
      databaseUrl: TEST_DATABASE_URL,
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-boundary-')),
      logger,
    });
    // Port 1 on loopback: nothing listens there, so connecting is refused at once.
    unreachable = await openDatabase({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
      dataDir: os.tmpdir(),
      logger,
    });
    app = new Koa();
    app.use(errorBoundary({ logger, page: { isPage: (ctx) => ctx.path.startsWith('/page'), assets: '/assets' } }));
    app.use(async (ctx) => {
      const query = ctx.path.endsWith('/nul')
        ? database.knex.raw('SELECT ?::text AS value', ['a\u0000b'])
        : ctx.path.endsWith('/jsonb')
          ? database.knex.raw('SELECT ?::jsonb AS value', ['{"a":"\\u0000"}'])
          : ctx.path.endsWith('/number')
            ? database.knex.raw('SELECT ?::integer AS value', ['not a number'])
            : ctx.path.endsWith('/down')
              ? unreachable.knex.raw('SELECT 1')
              : Promise.reject(new Error('a bug'));
      if (ctx.path.startsWith('/provider')) {
        // As oidc-provider does: it answers 500 itself and reports the error by its event.
        try {
          await query;
        } catch (error) {
          noteProviderServerError(ctx, error);
          ctx.status = 500;
          ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
        }
        return;
      }
      ctx.body = await query;
    });
  });

  afterAll(async () => {
    await database?.close();
    await unreachable?.close();
  });

  const request = () => supertest(http.createServer(requestListener(app)));

  it('a value the database refuses (NUL in text, \\u0000 in jsonb, a malformed number) is 400 invalid_request', async () => {
    for (const route of ['/api/nul', '/api/jsonb', '/api/number', '/provider/nul']) {
      const response = await request().get(route);
      expect(response.status, route).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_request' });
    }
    const page = await request().get('/page/nul');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(logs.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('a database out of reach is 503 temporarily_unavailable with Retry-After; one log line for many', async () => {
    for (const route of ['/api/down', '/provider/down']) {
      const response = await request().get(route);
      expect(response.status, route).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body).toMatchObject({ error: 'temporarily_unavailable' });
    }
    const page = await request().get('/page/down');
    expect(page.status).toBe(503);
    expect(page.text).toContain('Temporarily unavailable');
    for (let i = 0; i < 20; i += 1) await request().get('/api/down');
    const lines = logs.filter((line) => line.includes('database unavailable'));
    expect(lines).toHaveLength(1);
  });

  it('anything else is a bare 500 with the stack in the log only', async () => {
    const response = await request().get('/api/bug');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: 'server_error', error_description: 'an unexpected error occurred' });
    expect(logs.some((line) => line.includes('"request failed"') && line.includes('a bug'))).toBe(true);
  });
});
