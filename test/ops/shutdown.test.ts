import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTollgate, type TollgateProcess } from '../helpers/tollgate-process.js';

/**
 * SIGTERM as an orchestrator sends it: the built server in a child process, spoken to over raw
 * sockets, so a request can be held half-sent — in flight — while the signal arrives.
 */

/** One embedded database for the file's servers, one after another: initdb runs once. */
const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-shutdown-')), 'data');
const started: TollgateProcess[] = [];
afterEach(() => {
  for (const server of started.splice(0)) server.kill();
});
afterAll(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

async function start(env: Record<string, string> = {}): Promise<TollgateProcess> {
  const server = await startTollgate({ env: { DATA_DIR: dataDir, ...env } });
  started.push(server);
  return server;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RawExchange {
  socket: net.Socket;
  /** Everything the server sent until it closed the connection. */
  received: Promise<string>;
}

async function connect(port: number): Promise<RawExchange> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const received = new Promise<string>((resolve) => {
    socket.once('close', () => resolve(text));
    socket.on('error', () => {
      /* a reset ends the exchange too; `close` follows */
    });
  });
  return { socket, received };
}

function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** How a connection attempt ends once the listener has had a moment (up to 2 s) to close. */
async function connectionRefused(port: number): Promise<string> {
  let outcome = await tryConnect(port);
  for (let attempt = 0; attempt < 20 && outcome === 'connected'; attempt += 1) {
    await pause(100);
    outcome = await tryConnect(port);
  }
  return outcome;
}

describe('SIGTERM', () => {
  it('finishes requests in flight, refuses new connections, answers readiness 503 while draining, then exits 0', async () => {
    const server = await start({ SHUTDOWN_GRACE_SECONDS: '10' });
    const body = 'grant_type=client_credentials&client_id=nobody-registered-this&client_secret=wrong';
    // A token request whose body is still arriving, and a readiness probe whose headers are.
    const token = await connect(server.port);
    token.socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    const readiness = await connect(server.port);
    readiness.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await pause(300);

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    await server.waitForLog('shutting down', 5_000);

    expect(await connectionRefused(server.port)).toBe('ECONNREFUSED');
    expect(await connectionRefused(server.adminPort)).toBe('ECONNREFUSED');

    readiness.socket.write('\r\n');
    const readinessAnswer = await readiness.received;
    expect(readinessAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(readinessAnswer).toMatch(/\r\nconnection: close\r\n/i);
    expect(readinessAnswer).toContain('"status":"draining"');

    // Still in flight a second later: the process waits for it.
    await pause(1_000);
    expect(server.child.exitCode).toBeNull();
    token.socket.write(body.slice(10));
    const tokenAnswer = await token.received;
    const answered = Date.now();
    expect(tokenAnswer).toMatch(/^HTTP\/1\.1 401 /);
    expect(tokenAnswer).toContain('"error":"invalid_client"');

    const exit = await server.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at).toBeGreaterThanOrEqual(answered);
    expect(exit.at - signalled).toBeLessThan(10_000);
    expect(server.stdout()).toContain('"msg":"stopped"');
    expect(server.stderr()).toBe('');
  }, 120_000);

  it('does not wait on idle keep-alive connections', async () => {
    const server = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get(`${server.url}/healthz`, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets).toHaveLength(1);
    const closedByServer = new Promise<void>((resolve) => sockets[0]!.once('close', () => resolve()));

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    // Node keeps an idle keep-alive connection open for 5 s; shutting down must not wait for it.
    await closedByServer;
    expect(Date.now() - signalled).toBeLessThan(2_000);
    const exit = await server.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalled).toBeLessThan(10_000);
    agent.destroy();
  }, 120_000);

  it('cuts what is still in flight when SHUTDOWN_GRACE_SECONDS is over, and still exits 0', async () => {
    const server = await start({ SHUTDOWN_GRACE_SECONDS: '1' });
    const stalled = await connect(server.port);
    stalled.socket.write(
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=',
    );
    await pause(300);

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    // Cut when the grace is over, not before; not at some fixed later moment either. (Closing
    // the database afterwards takes its own time on a busy machine, hence the bounds on the cut.)
    expect(await stalled.received).toBe('');
    const cut = Date.now();
    expect(cut - signalled).toBeGreaterThanOrEqual(1_000);
    expect(cut - signalled).toBeLessThan(3_500);
    const exit = await server.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalled).toBeLessThan(10_000);
    expect(server.stdout()).toContain('shutdown grace period over');
  }, 120_000);

  it('SIGINT shuts down the same way', async () => {
    const server = await start();
    server.child.kill('SIGINT');
    const exit = await server.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(server.stdout()).toContain('"signal":"SIGINT"');
    expect(server.stdout()).toContain('"msg":"stopped"');
  }, 120_000);
});

describe('SHUTDOWN_GRACE_SECONDS', () => {
  it('defaults to 10 and must be a whole number of seconds up to an hour', () => {
    expect(loadConfig({}).shutdownGraceSeconds).toBe(10);
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '0' }).shutdownGraceSeconds).toBe(0);
    for (const bad of ['-1', '2.5', 'soon', '3601']) {
      expect(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: bad }), bad).toThrow(ConfigError);
    }
  });
});
