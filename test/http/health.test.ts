import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, onPostgres } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** A TCP proxy to PostgreSQL that can be cut, to take the database away from a running server. */
interface Proxy {
  port: number;
  cut(): Promise<void>;
}

async function startProxy(target: URL): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const proxy = net.createServer((incoming) => {
    const outgoing = net.connect(Number(target.port || 5432), target.hostname);
    track(incoming);
    track(outgoing);
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    async cut() {
      const closed = new Promise((resolve) => proxy.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function expectSecurityHeaders(response: { headers: Record<string, string> }): void {
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
}

describe('health endpoints', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(() => server?.close());

  it('/healthz is 200 while the process runs', async () => {
    const response = await server.public().get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok' });
    expectSecurityHeaders(response);
  });

  it('answers HEAD too, and leaves other methods to the server: POST /healthz is a 404, not a check', async () => {
    const head = await server.public().head('/healthz');
    expect(head.status).toBe(200);
    expect(head.headers['cache-control']).toBe('no-store');
    const post = await server.public().post('/healthz');
    expect(post.status).toBe(404);
  });

  it('/readyz is 200 once the database answers and keys are loaded', async () => {
    const response = await server.public().get('/readyz');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ status: 'ready' });
    expectSecurityHeaders(response);
  });

  it('every public response carries the security headers, discovery and errors included', async () => {
    for (const path of ['/.well-known/openid-configuration', '/no-such-page']) {
      expectSecurityHeaders(await server.public().get(path));
    }
    expectSecurityHeaders(await server.public().post('/token').type('form').send({ grant_type: 'client_credentials' }));
  });
});

describe('readiness when the database goes away', () => {
  let server: TestServer | undefined;
  let proxy: Proxy | undefined;

  afterAll(async () => {
    await proxy?.cut();
    await server?.close();
  });

  it.skipIf(!onPostgres)('PostgreSQL: /readyz turns 503 when the connection is cut, /healthz stays 200', async () => {
    const target = new URL(TEST_DATABASE_URL!);
    proxy = await startProxy(target);
    const viaProxy = new URL(target.href);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    server = await startServer({ env: { DATABASE_URL: viaProxy.href } });

    const ready = await server.public().get('/readyz');
    expect(ready.status).toBe(200);

    await proxy.cut();
    const started = Date.now();
    const notReady = await server.public().get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers['content-type']).toMatch(/^application\/json/);
    expect(notReady.body).toMatchObject({ status: 'not ready', database: 'unreachable' });
    expectSecurityHeaders(notReady);
    // The readiness check gives up after 2 s, so a load balancer's probe never hangs.
    expect(Date.now() - started).toBeLessThan(5_000);

    const healthy = await server.public().get('/healthz');
    expect(healthy.status).toBe(200);
  });

  it.skipIf(onPostgres)('embedded: /readyz turns 503 when the database is closed, /healthz stays 200', async () => {
    server = await startServer();
    expect((await server.public().get('/readyz')).status).toBe(200);

    await server.tollgate.database.knex.destroy();
    const notReady = await server.public().get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers['content-type']).toMatch(/^application\/json/);
    expect(notReady.body).toMatchObject({ status: 'not ready', database: 'unreachable' });
    expect(JSON.stringify(notReady.body)).not.toMatch(/at .*\.(ts|js):\d+/);

    expect((await server.public().get('/healthz')).status).toBe(200);
  });
});
