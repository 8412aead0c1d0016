import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateFactory, clientCertHeader } from '../helpers/certificates.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { confirmationOf, createClient, expectInvalidClient, publicKeyOf } from './mtls-helpers.js';

/**
 * RFC 8705 behind a TLS-terminating proxy: the proxy puts the client certificate in an RFC 9440
 * `Client-Cert` header (CLIENT_CERT_HEADER), believed only with TRUST_PROXY. Tollgate itself
 * speaks plain HTTP here, as it does behind nginx or a load balancer; the certificates are real.
 */

const certificates = new CertificateFactory();
const ca = certificates.selfSigned({ subject: '/CN=Proxy Client CA', ca: true });
const otherCa = certificates.selfSigned({ subject: '/CN=Another CA', ca: true });

let proxied: TestServer;
let direct: TestServer;
let api: ApiFixture;
let directApi: ApiFixture;

beforeAll(async () => {
  proxied = await startServer({
    env: { CLIENT_CERT_HEADER: 'Client-Cert', TRUST_PROXY: '1', TLS_CLIENT_CA: ca.certFile },
  });
  direct = await startServer();
  api = await createApi(proxied);
  directApi = await createApi(direct);
});

afterAll(async () => {
  await proxied?.close();
  await direct?.close();
  certificates.cleanup();
});

function clientCredentials(on: TestServer, clientId: string, scope: string, header?: string) {
  const request = on.public().post('/token').type('form');
  if (header !== undefined) request.set('Client-Cert', header);
  return request.send({ grant_type: 'client_credentials', client_id: clientId, scope });
}

describe('CLIENT_CERT_HEADER with TRUST_PROXY', () => {
  it('authenticates a tls_client_auth client by the certificate in the header, and binds its token to it', async () => {
    const cert = certificates.issue(ca, { subject: '/O=Acme/CN=shipping' });
    const client = await createClient(proxied, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=shipping,O=Acme',
      certificate_bound: true,
    });
    const response = await clientCredentials(proxied, String(client.client_id), api.scopes[0]!, clientCertHeader(cert));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
  });

  it('checks the chain itself: a certificate the proxy passed on from another CA is refused', async () => {
    const client = await createClient(proxied, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=receiving',
    });
    const forged = certificates.issue(otherCa, { subject: '/CN=receiving' });
    expectInvalidClient(
      await clientCredentials(proxied, String(client.client_id), api.scopes[0]!, clientCertHeader(forged)),
    );
    const expired = certificates.issue(ca, { subject: '/CN=receiving', days: -1 });
    expectInvalidClient(
      await clientCredentials(proxied, String(client.client_id), api.scopes[0]!, clientCertHeader(expired)),
    );
    expectInvalidClient(await clientCredentials(proxied, String(client.client_id), api.scopes[0]!));
  });

  it('authenticates a self_signed_tls_client_auth client by the key of the certificate in the header', async () => {
    const cert = certificates.selfSigned({ subject: '/CN=partner' });
    const client = await createClient(proxied, {
      scopes: [api.scopes[0]],
      auth_method: 'self_signed_tls_client_auth',
      public_key: publicKeyOf(cert),
    });
    const response = await clientCredentials(proxied, String(client.client_id), api.scopes[0]!, clientCertHeader(cert));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  });

  it('answers any garbage Client-Cert header with 401 invalid_client, never 5xx, whatever the client', async () => {
    const cert = certificates.issue(ca, { subject: '/CN=garbage-target' });
    const der = clientCertHeader(cert).slice(1, -1);
    const certificateClient = await createClient(proxied, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=garbage-target',
    });
    // A client that needs no certificate at all: a bad one is still a bad certificate, not "none".
    const secretClient = await createClient(proxied, { scopes: [api.scopes[0]] });
    const basic = `Basic ${Buffer.from(`${String(secretClient.client_id)}:${String(secretClient.client_secret)}`).toString('base64')}`;
    const visibleAscii = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    });
    const garbage = fc.oneof(
      visibleAscii.filter((value) => value.trim() !== ''),
      visibleAscii.map((value) => `:${value}:`),
      fc.base64String({ minLength: 4 }).map((value) => `:${value}:`),
      fc.uint8Array({ minLength: 1, maxLength: 600 }).map((bytes) => `:${Buffer.from(bytes).toString('base64')}:`),
      fc.constantFrom(
        der, // no colons
        `:${der}`,
        `${der}:`,
        `:${der.slice(0, -8)}:`, // truncated
        `:${der}:, :${der}:`, // two values
        `:${der.replace(/[+/]/g, (c) => (c === '+' ? '-' : '_'))}:`, // base64url, not base64
        `:${'A'.repeat(15_000)}:`, // within Node's 16 KiB for all headers: reaches Tollgate
        `:${cert.certPem.replace(/\n/g, '')}:`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(garbage, fc.boolean(), async (header, asCertificateClient) => {
        const response = asCertificateClient
          ? await clientCredentials(proxied, String(certificateClient.client_id), api.scopes[0]!, header)
          : await proxied
              .public()
              .post('/token')
              .type('form')
              .set('Authorization', basic)
              .set('Client-Cert', header)
              .send({ grant_type: 'client_credentials', scope: api.scopes[0]! });
        expectInvalidClient(response);
      }),
      { numRuns: 60 },
    );
    // Beyond Node's header limit (16 KiB in all) the HTTP server answers 431 before Tollgate sees it.
    const huge = await clientCredentials(
      proxied,
      String(certificateClient.client_id),
      api.scopes[0]!,
      `:${'A'.repeat(20_000)}:`,
    );
    expect(huge.status).toBe(431);
  });
});

describe('a Client-Cert header without CLIENT_CERT_HEADER and TRUST_PROXY', () => {
  it('is ignored: it authenticates no certificate client, and a secret client goes on as before', async () => {
    const cert = certificates.issue(ca, { subject: '/CN=claimed' });
    const client = await createClient(direct, {
      scopes: [directApi.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=claimed',
    });
    expectInvalidClient(
      await clientCredentials(direct, String(client.client_id), directApi.scopes[0]!, clientCertHeader(cert)),
    );
    const secretClient = await createClient(direct, { scopes: [directApi.scopes[0]], certificate_bound: false });
    const response = await direct
      .public()
      .post('/token')
      .type('form')
      .auth(String(secretClient.client_id), String(secretClient.client_secret))
      .set('Client-Cert', 'garbage')
      .send({ grant_type: 'client_credentials', scope: directApi.scopes[0]! });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toBeUndefined();
  });
});
