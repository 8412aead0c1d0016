import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  protectExpress,
  protectKoa,
  type AccessTokenCaller,
  type Fetch,
  type RequestScheme,
} from '@tollgate/resource-server';
import { requestListener } from '../../src/lib/request-listener.js';
import { CertificateFactory, clientCertHeader, type TestCertificate } from '../helpers/certificates.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { confirmationOf, createClient, tlsRequest, type TlsResponse } from '../mtls/mtls-helpers.js';

/**
 * Issue 19 end to end: a real Tollgate issues a certificate-bound token to a service over a real
 * TLS handshake, and an API protected by @tollgate/resource-server (Koa and Express, serving HTTPS
 * and asking for client certificates) accepts it only over a connection on which the client
 * presented that very certificate. Then the same behind a TLS-terminating proxy: Tollgate and the
 * API both read the RFC 9440 Client-Cert header the proxy writes.
 */

const certificates = new CertificateFactory();
const { ca, server: serverCertificate } = certificates.serverSetup();

type Framework = 'koa' | 'express';
const FRAMEWORKS: Framework[] = ['koa', 'express'];

/** Each API's routes: `/orders` takes only certificate-bound tokens, `/bearer` only plain bearer ones. */
const ROUTES: Record<string, readonly RequestScheme[]> = { '/orders': ['mtls'], '/bearer': ['bearer'] };

let tollgate: TestServer;
let proxiedTollgate: TestServer;
let api: ApiFixture;
let proxiedApi: ApiFixture;
const listeners: http.Server[] = [];
/** Base URLs of the APIs, by framework. */
const direct: Record<Framework, string> = { koa: '', express: '' };
const behindProxy: Record<Framework, string> = { koa: '', express: '' };
const ignoringHeader: Record<Framework, string> = { koa: '', express: '' };

/**
 * The API's fetch for discovery and the JWKS: Tollgate's server certificate comes from a private
 * CA, which the global fetch does not trust. The library's `fetch` option is where an API says
 * whom it trusts (in production, NODE_EXTRA_CA_CERTS=ca.pem does it for the global fetch too).
 */
function fetchTrusting(caPem: string): Fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const request = https.request(
        String(input),
        {
          method: init?.method ?? 'GET',
          headers: init?.headers as Record<string, string> | undefined,
          ca: caPem,
          signal: init?.signal ?? undefined,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(response.headers))
              if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
            resolve(new Response(Buffer.concat(chunks), { status: response.statusCode ?? 0, headers }));
          });
        },
      );
      request.on('error', reject);
      request.end(init?.body === undefined || init.body === null ? undefined : String(init.body));
    });
}

interface ApiOptions {
  issuer: string;
  audience: string;
  fetch?: Fetch;
  clientCertificateHeader?: string;
}

function koaApi(options: ApiOptions): http.RequestListener {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience, fetch: options.fetch });
  const app = new Koa();
  const routes = Object.entries(ROUTES).map(
    ([path, schemes]) =>
      [path, protectKoa(verifier, { schemes, clientCertificateHeader: options.clientCertificateHeader })] as const,
  );
  app.use(async (ctx, next) => {
    const route = routes.find(([path]) => path === ctx.path);
    if (route === undefined) return next();
    return route[1](ctx, async () => {
      const auth = ctx.state.auth as AccessTokenCaller;
      ctx.body = { scheme: auth.scheme, client_id: auth.client_id };
    });
  });
  return requestListener(app);
}

function expressApi(options: ApiOptions): express.Express {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience, fetch: options.fetch });
  const app = express();
  for (const [path, schemes] of Object.entries(ROUTES)) {
    app.get(
      path,
      protectExpress(verifier, { schemes, clientCertificateHeader: options.clientCertificateHeader }),
      (req, res) => {
        const auth = (req as express.Request & { auth: AccessTokenCaller }).auth;
        res.json({ scheme: auth.scheme, client_id: auth.client_id });
      },
    );
  }
  return app;
}

const buildApi = (framework: Framework, options: ApiOptions) =>
  framework === 'koa' ? koaApi(options) : expressApi(options);

async function listen(listener: http.Server, scheme: 'http' | 'https'): Promise<string> {
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}

/** An API terminating TLS itself: asks every client for a certificate, requires none, from no given CA. */
function httpsApi(handler: http.RequestListener): Promise<string> {
  const options = {
    cert: serverCertificate.certPem,
    key: serverCertificate.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
  };
  return listen(https.createServer(options, handler), 'https');
}

beforeAll(async () => {
  tollgate = await startServer({
    env: { TLS_CERT: serverCertificate.certFile, TLS_KEY: serverCertificate.keyFile, TLS_CLIENT_CA: ca.certFile },
  });
  proxiedTollgate = await startServer({
    env: { CLIENT_CERT_HEADER: 'Client-Cert', TRUST_PROXY: '1', TLS_CLIENT_CA: ca.certFile },
  });
  api = await createApi(tollgate);
  proxiedApi = await createApi(proxiedTollgate);
  for (const framework of FRAMEWORKS) {
    direct[framework] = await httpsApi(
      buildApi(framework, { issuer: tollgate.issuer, audience: api.identifier, fetch: fetchTrusting(ca.certPem) }),
    );
    // Behind the proxy, the API speaks plain HTTP, as Tollgate does: the proxy terminated TLS.
    const proxied = { issuer: proxiedTollgate.issuer, audience: proxiedApi.identifier };
    behindProxy[framework] = await listen(
      http.createServer(buildApi(framework, { ...proxied, clientCertificateHeader: 'client-cert' })),
      'http',
    );
    ignoringHeader[framework] = await listen(http.createServer(buildApi(framework, proxied)), 'http');
  }
});

afterAll(async () => {
  for (const listener of listeners) {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
  await tollgate?.close();
  await proxiedTollgate?.close();
  certificates.cleanup();
});

/** A service registered by its certificate's subject, its tokens bound to the certificate. */
async function boundService(on: TestServer, scope: string, subject: string): Promise<string> {
  const client = await createClient(on, {
    scopes: [scope],
    auth_method: 'tls_client_auth',
    tls_subject: subject,
    certificate_bound: true,
  });
  expect(client.tls_client_certificate_bound_access_tokens).toBe(true);
  return String(client.client_id);
}

/** client_credentials over a TLS handshake presenting `cert`: the token, checked bound to `cert`. */
async function tokenFor(clientId: string, cert: TestCertificate): Promise<string> {
  const response = await tlsRequest(`${tollgate.issuer}/token`, {
    ca: ca.certPem,
    cert,
    form: { grant_type: 'client_credentials', client_id: clientId, scope: api.scopes[0]!, resource: api.identifier },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.token_type).toBe('Bearer');
  expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
  return String(response.body.access_token);
}

/** A GET to an API over a new TLS connection, presenting `cert` (or none). */
function callApi(url: string, token: string, cert?: TestCertificate): Promise<TlsResponse> {
  return tlsRequest(url, { ca: ca.certPem, cert, headers: { authorization: `Bearer ${token}` } });
}

function expectInvalidToken(response: { status: number; body: unknown; headers: Record<string, unknown> }): void {
  expect(response.status, JSON.stringify(response.body)).toBe(401);
  expect((response.body as { error?: string }).error).toBe('invalid_token');
  expect(String(response.headers['www-authenticate'])).toMatch(/error="invalid_token"/);
}

describe.each(FRAMEWORKS)('an API on %s terminating TLS itself', (framework) => {
  let clientId: string;
  let cert: TestCertificate;
  let token: string;

  beforeAll(async () => {
    cert = certificates.issue(ca, { subject: `/O=Example/CN=orders-${framework}` });
    clientId = await boundService(tollgate, api.scopes[0]!, `CN=orders-${framework},O=Example`);
    token = await tokenFor(clientId, cert);
  });

  it('accepts the token with the certificate it is bound to: 200, scheme mtls', async () => {
    const response = await callApi(`${direct[framework]}/orders`, token, cert);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({ scheme: 'mtls', client_id: clientId });
  });

  it('refuses it with another certificate from the same CA: 401 invalid_token', async () => {
    const other = certificates.issue(ca, { subject: `/O=Example/CN=orders-${framework}` });
    expectInvalidToken(await callApi(`${direct[framework]}/orders`, token, other));
  });

  it('refuses it without a certificate: 401', async () => {
    const response = await callApi(`${direct[framework]}/orders`, token);
    expectInvalidToken(response);
    expect(String(response.body.error_description)).toMatch(/certificate/);
  });

  it('never takes it as a plain bearer token: an API listing only bearer refuses it, certificate or not', async () => {
    expectInvalidToken(await callApi(`${direct[framework]}/bearer`, token, cert));
    expectInvalidToken(await callApi(`${direct[framework]}/bearer`, token));
  });

  it('after the certificate is renewed (same subject, new key): a new token works with the new one, the old token stays bound to the old one', async () => {
    const renewed = certificates.issue(ca, { subject: `/O=Example/CN=orders-${framework}` });
    expect(renewed.x5tS256).not.toBe(cert.x5tS256);
    const renewedToken = await tokenFor(clientId, renewed);
    const url = `${direct[framework]}/orders`;
    expect((await callApi(url, renewedToken, renewed)).body).toEqual({ scheme: 'mtls', client_id: clientId });
    expectInvalidToken(await callApi(url, renewedToken, cert));
    expect((await callApi(url, token, cert)).body).toEqual({ scheme: 'mtls', client_id: clientId });
    expectInvalidToken(await callApi(url, token, renewed));
  });
});

describe.each(FRAMEWORKS)('behind a TLS-terminating proxy, an API on %s', (framework) => {
  let clientId: string;
  let cert: TestCertificate;
  let token: string;

  /** What the proxy sends on: the client's certificate in Client-Cert, over plain HTTP. */
  function viaProxy(url: string, accessToken: string, certificate?: TestCertificate) {
    const { origin, pathname } = new URL(url);
    const request = supertest(origin).get(pathname).set('Authorization', `Bearer ${accessToken}`);
    return certificate === undefined ? request : request.set('Client-Cert', clientCertHeader(certificate));
  }

  beforeAll(async () => {
    cert = certificates.issue(ca, { subject: `/O=Example/CN=proxied-${framework}` });
    clientId = await boundService(proxiedTollgate, proxiedApi.scopes[0]!, `CN=proxied-${framework},O=Example`);
    const response = await proxiedTollgate
      .public()
      .post('/token')
      .type('form')
      .set('Client-Cert', clientCertHeader(cert))
      .send({
        grant_type: 'client_credentials',
        client_id: clientId,
        scope: proxiedApi.scopes[0]!,
        resource: proxiedApi.identifier,
      });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
    token = String(response.body.access_token);
  });

  it('accepts the token with the same certificate in clientCertificateHeader: 200, scheme mtls', async () => {
    const response = await viaProxy(`${behindProxy[framework]}/orders`, token, cert);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({ scheme: 'mtls', client_id: clientId });
  });

  it('refuses it with another certificate in the header, or none: 401 invalid_token', async () => {
    const other = certificates.issue(ca, { subject: `/O=Example/CN=proxied-${framework}` });
    expectInvalidToken(await viaProxy(`${behindProxy[framework]}/orders`, token, other));
    expectInvalidToken(await viaProxy(`${behindProxy[framework]}/orders`, token));
  });

  it('an API without clientCertificateHeader ignores the header: 401, whoever wrote it', async () => {
    const response = await viaProxy(`${ignoringHeader[framework]}/orders`, token, cert);
    expectInvalidToken(response);
    expect(String(response.body.error_description)).toMatch(/certificate/);
  });
});
