import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, onPostgres } from '../helpers/database.js';
import { startDatabaseProxy, type DatabaseProxy } from '../helpers/database-proxy.js';
import { createApi, createServiceClient, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The contract ("Operations"): losing the database answers 503 on /readyz and on endpoints that
 * need it, never a hang past 10 s; once it is back, requests succeed again within 5 s without a
 * restart. Proven on PostgreSQL through a proxy this test cuts (the embedded database lives in the
 * process and cannot be lost this way).
 */
describe.skipIf(!onPostgres)('losing the database (issue 14 item 13)', () => {
  let proxy: DatabaseProxy;
  let server: TestServer;
  let client: ClientFixture;
  let webClientId: string;

  beforeAll(async () => {
    proxy = await startDatabaseProxy(TEST_DATABASE_URL!);
    server = await startServer({ env: { DATABASE_URL: proxy.url } });
    const api = await createApi(server);
    client = await createServiceClient(server, api.scopes);
    webClientId = (
      await server.admin('post', '/clients', {
        name: 'loss-web',
        grant_types: ['authorization_code'],
        redirect_uris: ['https://app.example.com/callback'],
        scopes: ['openid'],
      })
    ).body.client_id;
  });

  // A test that failed half-way must not leave the database away for the next one.
  afterEach(() => proxy.restore());

  afterAll(async () => {
    await server?.close();
    await proxy?.close();
  });

  function tokenRequest(clientId = client.client_id) {
    return server
      .public()
      .post('/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: client.client_secret });
  }

  function authorizationRequest(clientId: string) {
    return server
      .public()
      .get('/auth')
      .query({
        client_id: clientId,
        response_type: 'code',
        scope: 'openid',
        state: 's1',
        redirect_uri: 'https://app.example.com/callback',
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'S256',
      });
  }

  function errorLines(since: number): Array<Record<string, unknown>> {
    return server.logs
      .slice(since)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => (line.level as number) >= 50);
  }

  async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  }

  async function expectBackWithin(ms: number): Promise<void> {
    const started = Date.now();
    let status = 0;
    for (let attempt = 0; attempt < 100 && Date.now() - started < ms; attempt += 1) {
      status = (await tokenRequest()).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expect(Date.now() - started).toBeLessThan(ms);
    expect((await server.admin('get', '/clients')).status).toBe(200);
    expect((await server.public().get('/readyz')).status).toBe(200);
  }

  it('bounds every wait on PostgreSQL: statement timeout set on the session', async () => {
    const { rows } = (await server.tollgate.database.knex.raw('SHOW statement_timeout')) as {
      rows: Array<{ statement_timeout: string }>;
    };
    expect(rows[0]!.statement_timeout).toBe('5s');
  });

  it('a database that went down: 503 with Retry-After everywhere it is needed, few log lines; back within 5 s', async () => {
    expect((await tokenRequest()).status).toBe(200);
    // The web client is now in the client cache: its authorization request gets further, still
    // to a page saying the service is away (not a `server_error` sent back to the client).
    expect((await authorizationRequest(webClientId)).status).toBe(303);
    const logsBefore = server.logs.length;
    await proxy.refuse();

    const ready = await server.public().get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('5');

    // An unknown client must be looked up: the token endpoint (oidc-provider) answers RFC 6749 JSON.
    const token = await tokenRequest('client_not_cached');
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toBe('5');
    expect(token.body).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.any(String) });

    const admin = await server.admin('get', '/clients');
    expect(admin.status).toBe(503);
    expect(admin.headers['retry-after']).toBe('5');
    expect(admin.body).toMatchObject({ error: 'temporarily_unavailable' });

    for (const clientId of [webClientId, 'client_not_cached_page']) {
      const page = await authorizationRequest(clientId);
      expect(page.status).toBe(503);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('Temporarily unavailable');
    }

    // A burst of failing requests logs one line per kind of failure, not one per request.
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        index % 2 ? tokenRequest(`client_missing_${index}`) : server.admin('get', '/users'),
      ),
    );
    expect(burst.every((response) => response.status === 503)).toBe(true);
    const lines = errorLines(logsBefore);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines.every((line) => line.msg === 'database unavailable')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('"stack"');

    await proxy.restore();
    await expectBackWithin(5_000);
  });

  it('a database that stops answering: 503 within 10 s, never a hang; back within 5 s', async () => {
    // Several open connections in the pool: requests in the blackhole wait on one of them (only the
    // query timeout ends that) or on a new one (the connect timeout).
    await Promise.all(Array.from({ length: 6 }, () => server.admin('get', '/clients')));
    expect((await tokenRequest()).status).toBe(200);
    proxy.blackhole();

    const [ready, token, admin, ...others] = await Promise.all([
      timed(() => server.public().get('/readyz')),
      timed(() => tokenRequest('client_not_cached_either')),
      timed(() => server.admin('get', '/apis')),
      timed(() => server.admin('get', '/users')),
      timed(() => server.admin('get', '/clients')),
    ]);
    expect(ready.result.status).toBe(503);
    expect(token.result.status).toBe(503);
    expect(token.result.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(admin.result.status).toBe(503);
    for (const { result } of others) expect(result.status).toBe(503);
    for (const { ms } of [ready, token, admin, ...others]) expect(ms).toBeLessThan(10_000);

    await proxy.restore();
    await expectBackWithin(5_000);
  });
});

describe.skipIf(!onPostgres)('migrations are not bound by the request timeouts', () => {
  it('a statement longer than the statement timeout fails on the pool but completes unbounded', async () => {
    const { openDatabase } = await import('../../src/db/database.js');
    const database = await openDatabase({
      databaseUrl: TEST_DATABASE_URL,
      dataDir: '/nonexistent-unused',
      timeouts: { statement: 200, query: 400 },
    });
    try {
      await expect(database.knex.raw('SELECT pg_sleep(0.6)')).rejects.toThrow();
      const { rows } = await database.unbounded((knex) => knex.raw('SELECT pg_sleep(0.6), 1 AS done'));
      expect(rows[0].done).toBe(1);
    } finally {
      await database.close();
    }
  });
});
