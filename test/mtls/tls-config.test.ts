import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CertificateFactory } from '../helpers/certificates.js';
import { startTollgate, spawnTollgate, type TollgateProcess } from '../helpers/tollgate-process.js';
import { confirmationOf, expectInvalidClient, tlsRequest } from './mtls-helpers.js';

/** TLS_CERT, TLS_KEY, TLS_CLIENT_CA, CLIENT_CERT_HEADER: what a start accepts, and the one line it refuses with. */

const certificates = new CertificateFactory();
const { ca, server } = certificates.serverSetup();
const otherServer = certificates.issue(ca, { subject: '/CN=other' });
const notPem = certificates.file('not.pem', 'hello\n');
const missing = `${certificates.file('gone.pem', '')}.missing`;
const running: TollgateProcess[] = [];

afterAll(() => {
  for (const process of running) process.kill();
  certificates.cleanup();
});

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as Error;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

describe('loadConfig: TLS and client certificates', () => {
  it('reads TLS_CERT, TLS_KEY and TLS_CLIENT_CA; the default issuer becomes https', () => {
    const config = loadConfig({ TLS_CERT: server.certFile, TLS_KEY: server.keyFile, TLS_CLIENT_CA: ca.certFile });
    expect(config.tls).toEqual({ cert: server.certPem, key: server.keyPem });
    expect(config.clientCa?.certificates.map((cert) => cert.subject)).toEqual([ca.x509.subject]);
    expect(config.issuer).toBe('https://localhost:3000');
    expect(config.clientCertHeader).toBeUndefined();
  });

  it('reads CLIENT_CERT_HEADER with TRUST_PROXY, in lower case, with or without TLS_CLIENT_CA', () => {
    expect(loadConfig({ CLIENT_CERT_HEADER: 'Client-Cert', TRUST_PROXY: 'true' }).clientCertHeader).toBe('client-cert');
    const config = loadConfig({ CLIENT_CERT_HEADER: 'X-Client-Cert', TRUST_PROXY: '2', TLS_CLIENT_CA: ca.certFile });
    expect(config.clientCa?.certificates).toHaveLength(1);
    expect(config.tls).toBeUndefined();
  });

  it.each([
    [{ CLIENT_CERT_HEADER: 'Client-Cert' }, /CLIENT_CERT_HEADER needs TRUST_PROXY/],
    [{ CLIENT_CERT_HEADER: 'Client-Cert', TRUST_PROXY: 'false' }, /CLIENT_CERT_HEADER needs TRUST_PROXY/],
    [{ CLIENT_CERT_HEADER: 'Client Cert', TRUST_PROXY: '1' }, /CLIENT_CERT_HEADER must be a header name/],
    [
      { CLIENT_CERT_HEADER: 'Client-Cert', TRUST_PROXY: '1', TLS_CERT: server.certFile, TLS_KEY: server.keyFile },
      /with TLS_CERT Tollgate terminates it .*set one or the other/,
    ],
    [{ TLS_CERT: server.certFile }, /TLS_CERT and TLS_KEY go together/],
    [{ TLS_KEY: server.keyFile }, /TLS_CERT and TLS_KEY go together/],
    [{ TLS_CERT: missing, TLS_KEY: server.keyFile }, /TLS_CERT: cannot read .*ENOENT/],
    [{ TLS_CERT: server.certFile, TLS_KEY: missing }, /TLS_KEY: cannot read/],
    [{ TLS_CERT: notPem, TLS_KEY: server.keyFile }, /TLS_CERT .* is not a readable PEM certificate/],
    [{ TLS_CERT: server.certFile, TLS_KEY: notPem }, /TLS_KEY .* is not a readable PEM private key/],
    [{ TLS_CERT: server.certFile, TLS_KEY: server.certFile }, /TLS_KEY .* is not a readable PEM private key/],
    [{ TLS_CERT: server.certFile, TLS_KEY: otherServer.keyFile }, /is not the private key of the certificate/],
    [{ TLS_CLIENT_CA: ca.certFile }, /TLS_CLIENT_CA needs TLS_CERT and TLS_KEY .* or CLIENT_CERT_HEADER/],
    [
      { TLS_CERT: server.certFile, TLS_KEY: server.keyFile, TLS_CLIENT_CA: notPem },
      /TLS_CLIENT_CA .* not a readable PEM/,
    ],
    [{ TLS_CERT: server.certFile, TLS_KEY: server.keyFile, TLS_CLIENT_CA: missing }, /TLS_CLIENT_CA: cannot read/],
  ])('refuses %j with one line', (env, says) => {
    expect(configError(env as Record<string, string>)).toMatch(says);
  });
});

describe('the built server', () => {
  it('refuses to start with CLIENT_CERT_HEADER but no TRUST_PROXY: one line on stderr, exit 1', async () => {
    const process = await spawnTollgate({ env: { CLIENT_CERT_HEADER: 'Client-Cert' }, sharedDatabase: false });
    running.push(process);
    const exit = await process.exited;
    expect(exit.code).toBe(1);
    expect(process.stderr()).toMatch(/^tollgate: could not start: CLIENT_CERT_HEADER needs TRUST_PROXY[^\n]*\n$/);
  });

  it('serves HTTPS with TLS_CERT/TLS_KEY/TLS_CLIENT_CA as npm start does, and issues a certificate-bound token', async () => {
    const process = await startTollgate({
      env: {
        ISSUER: undefined,
        ADMIN_TOKEN: 'an-admin-token-for-the-tls-test',
        TLS_CERT: server.certFile,
        TLS_KEY: server.keyFile,
        TLS_CLIENT_CA: ca.certFile,
      },
      sharedDatabase: false,
    });
    running.push(process);
    expect(process.stdout()).toContain(`"public":"https://127.0.0.1:${process.port}"`);
    const admin = (route: string, body: unknown) =>
      fetch(`http://127.0.0.1:${process.adminPort}${route}`, {
        method: 'POST',
        headers: { authorization: 'Bearer an-admin-token-for-the-tls-test', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      }));
    const api = await admin('/apis', { identifier: 'https://orders.example.com', scopes: ['orders:read'] });
    expect(api.status, JSON.stringify(api.body)).toBe(201);
    const client = await admin('/clients', {
      name: 'orders-worker',
      grant_types: ['client_credentials'],
      scopes: ['orders:read'],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=orders-worker,O=Acme',
      certificate_bound: true,
    });
    expect(client.status, JSON.stringify(client.body)).toBe(201);
    const cert = certificates.issue(ca, { subject: '/O=Acme/CN=orders-worker' });
    const token = (presented = cert) =>
      tlsRequest(`https://127.0.0.1:${process.port}/token`, {
        ca: ca.certPem,
        cert: presented,
        form: { grant_type: 'client_credentials', client_id: String(client.body.client_id), scope: 'orders:read' },
      });
    const response = await token();
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
    const discovery = await tlsRequest(`https://127.0.0.1:${process.port}/.well-known/openid-configuration`, {
      ca: ca.certPem,
    });
    expect(discovery.body.issuer).toBe(`https://localhost:${process.port}`);
    expectInvalidClient(await token(certificates.selfSigned({ subject: '/O=Acme/CN=orders-worker' })));
    // The HTTPS listener drains and stops on SIGTERM as the plain one does.
    process.child.kill('SIGTERM');
    expect((await process.exited).code).toBe(0);
  });
});
