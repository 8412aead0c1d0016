import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import type Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Which address a request comes from (contract, "Trust"): with TRUST_PROXY=N the N-th
 * X-Forwarded-For address from the right; whatever lies left of it was written by the client and
 * is never used. Unset, the socket's address. Both Koa applications that see requests — the
 * public app and oidc-provider's Provider, which builds its own contexts for interactions — must
 * decide alike.
 */

const SOCKET_ADDRESS = '192.0.2.200';

/** A request as Node would hand it to Koa, arriving from SOCKET_ADDRESS with these headers. */
function contextOf(app: Koa, headers: Record<string, string>) {
  const socket = new net.Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: SOCKET_ADDRESS });
  const req = new http.IncomingMessage(socket);
  req.headers = { host: 'auth.example.test', ...headers };
  return app.createContext(req, new http.ServerResponse(req));
}

const ipv4 = fc.ipV4();
const address = fc.oneof(ipv4, fc.ipV6());
/** Anything a client may put in the header itself: addresses, junk, commas, nothing. */
const clientWritten = fc.oneof(
  fc.array(address, { maxLength: 4 }).map((list) => list.join(', ')),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:, []unknown'.split('')), maxLength: 40 }),
);

const servers: Record<number, TestServer> = {};

beforeAll(async () => {
  [servers[0], servers[1], servers[2]] = await Promise.all([
    startServer(),
    startServer({ env: { TRUST_PROXY: 'true' } }),
    startServer({ env: { TRUST_PROXY: '2' } }),
  ]);
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server.close()));
});

function apps(hops: number): [string, Koa][] {
  const { tollgate } = servers[hops]!;
  return [
    ['public app', tollgate.publicApp],
    ['oidc-provider', tollgate.provider as unknown as Koa],
  ];
}

describe.each([1, 2])('TRUST_PROXY=%i', (hops) => {
  it('the client is the address the outermost trusted proxy appended, whatever the client wrote left of it', () => {
    fc.assert(
      fc.property(
        clientWritten,
        address,
        fc.array(address, { minLength: hops - 1, maxLength: hops - 1 }),
        (written, client, innerProxies) => {
          // Each of the `hops` proxies appends the address it received the request from.
          const appended = [client, ...innerProxies].join(', ');
          const header = written ? `${written}, ${appended}` : appended;
          for (const [name, app] of apps(hops)) {
            expect(contextOf(app, { 'x-forwarded-for': header }).ip, `${name}: ${header}`).toBe(client);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('without the header, the socket address; X-Forwarded-Proto and -Host are followed, as before', () => {
    for (const [name, app] of apps(hops)) {
      expect(contextOf(app, {}).ip, name).toBe(SOCKET_ADDRESS);
      const proxied = contextOf(app, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'login.example.test' });
      expect(proxied.protocol, name).toBe('https');
      expect(proxied.host, name).toBe('login.example.test');
    }
  });
});

describe('TRUST_PROXY unset', () => {
  it('ignores X-Forwarded-For, -Proto and -Host: the socket address is the client', () => {
    fc.assert(
      fc.property(clientWritten, (written) => {
        for (const [name, app] of apps(0)) {
          const context = contextOf(app, {
            'x-forwarded-for': written,
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'evil.example.test',
          });
          expect(context.ip, name).toBe(SOCKET_ADDRESS);
          expect(context.protocol, name).toBe('http');
          expect(context.host, name).toBe('auth.example.test');
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('the request log records the address decided', () => {
  it.each([
    [0, '198.51.100.1, 203.0.113.5', '127.0.0.1'],
    [1, '198.51.100.1, 203.0.113.5', '203.0.113.5'],
    [2, '198.51.100.1, 203.0.113.5, 10.0.0.2', '203.0.113.5'],
  ])('TRUST_PROXY=%i, X-Forwarded-For "%s": ip %s', async (hops, header, expected) => {
    const server = servers[hops]!;
    const response = await server.public().get('/.well-known/openid-configuration').set('X-Forwarded-For', header);
    expect(response.status).toBe(200);
    const lines = server.logs
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { route?: string; ip?: string });
    const logged = lines.filter((line) => line.route === 'discovery').at(-1);
    expect(logged?.ip?.replace(/^::ffff:/, '')).toBe(expected);
  });
});
