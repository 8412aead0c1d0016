import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { requestListener } from '../../src/lib/request-listener.js';
import { createLogger } from '../../src/log.js';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';
import { createPublicServer } from '../../src/http/public-server.js';
import { TEST_DATABASE_URL, TEST_KEY_ENCRYPTION_KEY, unique } from './database.js';

export interface TestServer {
  tollgate: Tollgate;
  issuer: string;
  adminUrl: string;
  adminToken: string;
  /** Every log line written so far, raw. */
  logs: string[];
  /** supertest against the public listener. */
  public(): supertest.Agent;
  /** supertest against the admin listener, with the admin token. */
  admin(method: 'get' | 'post' | 'put' | 'patch' | 'delete', route: string, body?: unknown): supertest.Test;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (embedded database) between servers. */
  dataDir?: string;
  /** The path part of the issuer, e.g. "/tenant". */
  issuerPath?: string;
}

/** With TLS_CERT/TLS_KEY (and TLS_CLIENT_CA) in `env`, the public listener is HTTPS, as main.ts makes it. */
function publicServerFor(env: Record<string, string> = {}): http.Server {
  if (!env.TLS_CERT && !env.TLS_KEY) return http.createServer();
  const { TLS_CERT, TLS_KEY, TLS_CLIENT_CA } = env;
  return createPublicServer(loadConfig({ TLS_CERT, TLS_KEY, TLS_CLIENT_CA }));
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Starts a real Tollgate on two loopback ports, the way `npm start` does, with logs captured. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const publicServer = publicServerFor(options.env);
  const adminServer = http.createServer();
  const [port, adminPort] = await Promise.all([listen(publicServer), listen(adminServer)]);
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-test-'));
  const adminToken = unique('admin-token-');
  const config: Config = {
    ...loadConfig({
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ISSUER: `${options.env?.TLS_CERT ? 'https' : 'http'}://127.0.0.1:${port}${options.issuerPath ?? ''}`,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      LOG_LEVEL: 'info',
      // Test files share 127.0.0.1 (and, on PostgreSQL, one counter table): tests of the
      // anonymous-request and failed-authentication limits set their own and send their own
      // X-Forwarded-For.
      ANONYMOUS_RATE_LIMIT: '1000000/min',
      CLIENT_AUTH_FAILURE_LIMIT: '1000000/min',
      API_KEY_VERIFICATION_FAILURE_LIMIT: '1000000/min',
      SIGNATURE_VERIFICATION_FAILURE_LIMIT: '1000000/min',
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
      ...options.env,
    }),
    keysDir: path.join(dataDir, 'keys'),
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const tollgate = await createTollgate(config, createLogger(config.logLevel, sink));
  publicServer.on('request', requestListener(tollgate.publicApp));
  adminServer.on('request', requestListener(tollgate.adminApp));

  return {
    tollgate,
    issuer: config.issuer,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    adminToken,
    logs,
    public: () => supertest.agent(publicServer),
    admin(method, route, body) {
      const request = supertest(adminServer)[method](route).set('Authorization', `Bearer ${adminToken}`);
      return body === undefined ? request : request.send(body as object);
    },
    async close() {
      publicServer.closeAllConnections();
      adminServer.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => publicServer.close(resolve)),
        new Promise((resolve) => adminServer.close(resolve)),
      ]);
      await tollgate.close();
    },
  };
}
