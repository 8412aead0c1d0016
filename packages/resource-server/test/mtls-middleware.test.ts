import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  protectExpress,
  protectKoa,
  type AccessTokenCaller,
  type RequestScheme,
  type Verifier,
} from '../src/index.js';
import { CertificateFactory, clientCertHeader, type TestCertificate } from '../../../test/helpers/certificates.js';
import { AUDIENCE, TestIssuer } from './helpers/issuer.js';

// The Koa and Express middleware find the client certificate themselves: the TLS socket's peer
// certificate (a real https server asking for one, real TLS clients), or — only when configured,
// for an API behind a TLS-terminating proxy — the RFC 9440 Client-Cert header.

let issuer: TestIssuer;
let verifier: Verifier;
let certificates: CertificateFactory;
let ca: TestCertificate;
let server: TestCertificate;
let client: TestCertificate;
let other: TestCertificate;
let selfSigned: TestCertificate;
let expired: TestCertificate;
const servers: http.Server[] = [];

type Framework = 'koa' | 'express';
interface AppOptions {
  clientCertificateHeader?: string;
}

/** Routes: /orders takes bearer, DPoP and certificate-bound tokens; /strict only certificate-bound ones; /plain the default. */
const ROUTES: Record<string, readonly RequestScheme[] | undefined> = {
  '/orders': ['bearer', 'dpop', 'mtls'],
  '/strict': ['mtls'],
  '/plain': undefined,
};

function koaApp(options: AppOptions): http.RequestListener {
  const app = new Koa();
  const routes = Object.entries(ROUTES).map(
    ([path, schemes]) => [path, protectKoa(verifier, { schemes, scopes: ['orders:read'], ...options })] as const,
  );
  app.use(async (ctx, next) => {
    const route = routes.find(([path]) => path === ctx.path);
    if (route === undefined) return next();
    return route[1](ctx, async () => {
      const auth = ctx.state.auth as AccessTokenCaller;
      ctx.body = { scheme: auth.scheme, sub: auth.sub };
    });
  });
  const handler = app.callback();
  return (request, response) => void handler(request, response);
}

function expressApp(options: AppOptions): express.Express {
  const app = express();
  for (const [path, schemes] of Object.entries(ROUTES)) {
    app.get(path, protectExpress(verifier, { schemes, scopes: ['orders:read'], ...options }), (req, res) => {
      const auth = (req as express.Request & { auth: AccessTokenCaller }).auth;
      res.json({ scheme: auth.scheme, sub: auth.sub });
    });
  }
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'server_error' });
  });
  return app;
}

const build = (framework: Framework, options: AppOptions = {}) =>
  framework === 'koa' ? koaApp(options) : expressApp(options);

async function listen(server: http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

function read(response: http.IncomingMessage, resolve: (answer: Answer) => void, reject: (error: Error) => void) {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('error', reject);
  response.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    resolve({ status: response.statusCode!, headers: response.headers, body: text === '' ? {} : JSON.parse(text) });
  });
}

/** A request over TLS from a client holding `certificate` (or none): a fresh connection every time. */
function overTls(
  port: number,
  path: string,
  certificate: TestCertificate | undefined,
  headers: http.OutgoingHttpHeaders,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: '127.0.0.1',
      port,
      path,
      headers,
      ca: ca.certPem,
      ...(certificate === undefined ? {} : { cert: certificate.certPem, key: certificate.keyPem }),
      agent: false,
    });
    request.on('response', (response) => read(response, resolve, reject));
    request.on('error', reject);
    request.end();
  });
}

/** A plain HTTP request, as a TLS-terminating proxy makes to the API. Header arrays become repeated lines. */
function overHttp(port: number, path: string, headers: http.OutgoingHttpHeaders): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, headers, agent: false });
    request.on('response', (response) => read(response, resolve, reject));
    request.on('error', reject);
    request.end();
  });
}

const tlsPorts: Partial<Record<Framework, number>> = {};
const proxiedPorts: Partial<Record<Framework, number>> = {};
const unconfiguredPorts: Partial<Record<Framework, number>> = {};

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  certificates = new CertificateFactory();
  ({ ca, server } = certificates.serverSetup());
  client = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme' });
  other = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme' });
  selfSigned = certificates.selfSigned({ subject: '/CN=partner-self-signed' });
  expired = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme', days: -1 });
  for (const framework of ['koa', 'express'] as const) {
    // Asks for a certificate and takes any (self-signed included): the binding is what the API checks.
    const tls = { cert: server.certPem, key: server.keyPem, requestCert: true, rejectUnauthorized: false };
    tlsPorts[framework] = await listen(https.createServer(tls, build(framework)));
    // Room for headers beyond Node's default 16 KiB, so that the middleware's own limit is what answers.
    proxiedPorts[framework] = await listen(
      http.createServer({ maxHeaderSize: 64 * 1024 }, build(framework, { clientCertificateHeader: 'Client-Cert' })),
    );
    unconfiguredPorts[framework] = await listen(http.createServer(build(framework)));
  }
});

afterAll(async () => {
  for (const listening of servers) {
    listening.closeAllConnections();
    await new Promise((resolve) => listening.close(resolve));
  }
  certificates.cleanup();
  await issuer.close();
});

const boundTo = (certificate: TestCertificate) =>
  issuer.token({ sub: 'client_sync', cnf: { 'x5t#S256': certificate.x5tS256 } });

describe.each(['koa', 'express'] as const)('%s over TLS (the socket’s peer certificate)', (framework) => {
  const get = (path: string, certificate: TestCertificate | undefined, headers: http.OutgoingHttpHeaders = {}) =>
    overTls(tlsPorts[framework]!, path, certificate, headers);

  it('200 for a certificate-bound token from the client holding its certificate: scheme mtls', async () => {
    for (const holder of [client, selfSigned]) {
      const answer = await get('/orders', holder, { authorization: `Bearer ${await boundTo(holder)}` });
      expect(answer).toMatchObject({ status: 200, body: { scheme: 'mtls', sub: 'client_sync' } });
      const strict = await get('/strict', holder, { authorization: `Bearer ${await boundTo(holder)}` });
      expect(strict).toMatchObject({ status: 200, body: { scheme: 'mtls' } });
    }
  });

  it('401 invalid_token with a Bearer challenge from a client with another certificate, or none', async () => {
    const token = await boundTo(client);
    const cases = [
      [other, 'the token is bound to another client certificate'],
      [undefined, 'the token is certificate-bound and the request has no client certificate'],
      [expired, 'the token is bound to another client certificate'],
    ] as const;
    for (const [certificate, description] of cases) {
      const answer = await get('/orders', certificate, { authorization: `Bearer ${token}` });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'invalid_token', error_description: description });
      expect(answer.headers['www-authenticate']).toBe(
        `Bearer error="invalid_token", error_description="${description}"`,
      );
      expect(answer.headers['cache-control']).toBe('no-store');
    }
  });

  it('401 for the right certificate once expired', async () => {
    const answer = await get('/orders', expired, { authorization: `Bearer ${await boundTo(expired)}` });
    expect(answer).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: 'the client certificate has expired' },
    });
  });

  it('401 where the route does not list mtls, even with the right certificate', async () => {
    const answer = await get('/plain', client, { authorization: `Bearer ${await boundTo(client)}` });
    expect(answer).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: 'a certificate-bound token is not accepted here' },
    });
  });

  it('ignores a Client-Cert header when not configured for one: the socket alone counts', async () => {
    const token = await boundTo(client);
    const forged = await get('/orders', undefined, {
      authorization: `Bearer ${token}`,
      'client-cert': clientCertHeader(client),
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error_description).toMatch(/no client certificate/);
    const garbage = await get('/orders', client, { authorization: `Bearer ${token}`, 'client-cert': 'garbage' });
    expect(garbage).toMatchObject({ status: 200, body: { scheme: 'mtls' } });
  });

  it('bearer tokens work as before, with or without a client certificate; /strict wants a bound one', async () => {
    const token = await issuer.token();
    for (const certificate of [client, undefined]) {
      const answer = await get('/orders', certificate, { authorization: `Bearer ${token}` });
      expect(answer).toMatchObject({ status: 200, body: { scheme: 'bearer' } });
    }
    const strict = await get('/strict', client, { authorization: `Bearer ${token}` });
    expect(strict).toMatchObject({
      status: 401,
      body: { error_description: 'a bearer token is not accepted here: use a certificate-bound token (RFC 8705)' },
    });
  });
});

describe.each(['koa', 'express'] as const)('%s behind a proxy (clientCertificateHeader)', (framework) => {
  const proxied = (headers: http.OutgoingHttpHeaders, path = '/orders') =>
    overHttp(proxiedPorts[framework]!, path, headers);

  it('trusts the configured header: 200 with the certificate the token names, 401 with another or none', async () => {
    const token = await boundTo(client);
    const ok = await proxied({ authorization: `Bearer ${token}`, 'client-cert': clientCertHeader(client) });
    expect(ok).toMatchObject({ status: 200, body: { scheme: 'mtls' } });
    const unpadded = clientCertHeader(client).replace(/=+:$/, ':');
    expect(await proxied({ authorization: `Bearer ${token}`, 'client-cert': ` ${unpadded} ` })).toMatchObject({
      status: 200,
    });
    const another = await proxied({ authorization: `Bearer ${token}`, 'client-cert': clientCertHeader(other) });
    expect(another).toMatchObject({ status: 401, body: { error_description: /another client certificate/ } });
    const none = await proxied({ authorization: `Bearer ${token}` });
    expect(none).toMatchObject({ status: 401, body: { error_description: /no client certificate/ } });
  });

  it('a garbage or repeated header is a bad certificate: 401 invalid_token, never "no certificate", never 5xx', async () => {
    const token = await boundTo(client);
    const der = client.der.toString('base64');
    const garbage = [
      client.certPem.replace(/\n/g, ' '),
      der,
      `:${der}`,
      `:${der.slice(1)}:`,
      `:${der}:;param=1`,
      `:${der}::`,
      ':not base64!:',
      '::',
      `:${Buffer.from('not a certificate').toString('base64')}:`,
      `:${'A'.repeat(20_000)}:`,
      [clientCertHeader(client), clientCertHeader(client)],
    ];
    for (const value of garbage) {
      const answer = await proxied({ authorization: `Bearer ${token}`, 'client-cert': value });
      expect(answer.status, String(value).slice(0, 60)).toBe(401);
      expect(answer.body.error).toBe('invalid_token');
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    }
    const repeated = await proxied({
      authorization: `Bearer ${token}`,
      'client-cert': [clientCertHeader(client), clientCertHeader(client)],
    });
    expect(repeated.body.error_description).toBe('the request has more than one Client-Cert header');
  });

  it('is ignored by an API not configured for it: anyone could write one', async () => {
    const answer = await overHttp(unconfiguredPorts[framework]!, '/orders', {
      authorization: `Bearer ${await boundTo(client)}`,
      'client-cert': clientCertHeader(client),
    });
    expect(answer).toMatchObject({ status: 401, body: { error_description: /no client certificate/ } });
  });

  it('any header value but the certificate is answered 401 invalid_token, never 5xx or a crash', async () => {
    const token = await boundTo(client);
    const der = client.der.toString('base64');
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
      maxLength: 300,
    });
    const value = fc.oneof(
      printable,
      printable.map((text) => `:${text}:`),
      fc.uint8Array({ maxLength: 600 }).map((bytes) => `:${Buffer.from(bytes).toString('base64')}:`),
      fc
        .tuple(
          fc.nat(der.length),
          printable.filter((text) => text !== ''),
        )
        .map(([at, text]) => `:${der.slice(0, at)}${text}${der.slice(at)}:`),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })), async (header) => {
        const answer = await proxied({ authorization: `Bearer ${token}`, 'client-cert': header });
        expect(answer.status).toBe(401);
        expect(answer.body.error).toBe('invalid_token');
        // A header there is a certificate presented, however bad: never taken for no certificate.
        expect(answer.body.error_description).not.toMatch(/no client certificate/);
      }),
      { numRuns: 150 },
    );
  });

  it('a header name that is not one is a TypeError when the middleware is made', () => {
    const protect = framework === 'koa' ? protectKoa : protectExpress;
    for (const name of ['', 'client cert', 'client-cert:', 42 as never]) {
      expect(() => protect(verifier, { schemes: ['mtls'], clientCertificateHeader: name })).toThrow(TypeError);
    }
    expect(() => protect(verifier, { schemes: ['mtls'], clientCertificateHeader: 'X-SSL-Client-Cert' })).not.toThrow();
  });
});
