import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateFactory, type TestCertificate } from '../helpers/certificates.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { issueAuthorizationCode } from '../helpers/authorization-code.js';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  confirmationOf,
  createClient,
  expectInvalidClient,
  publicKeyOf,
  tlsRequest,
  type TlsRequestOptions,
} from './mtls-helpers.js';

/**
 * RFC 8705 with Tollgate terminating TLS itself (TLS_CERT, TLS_KEY, TLS_CLIENT_CA), over real
 * handshakes: node:https presents the client certificates openssl made, as a service would.
 */

const certificates = new CertificateFactory();
const { ca, server: serverCertificate } = certificates.serverSetup();
const otherCa = certificates.selfSigned({ subject: '/CN=Another CA', ca: true });

let server: TestServer;
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer({
    env: { TLS_CERT: serverCertificate.certFile, TLS_KEY: serverCertificate.keyFile, TLS_CLIENT_CA: ca.certFile },
  });
  api = await createApi(server);
});

afterAll(async () => {
  await server?.close();
  certificates.cleanup();
});

function post(
  path: string,
  form: Record<string, string>,
  cert?: TestCertificate,
  extra: Partial<TlsRequestOptions> = {},
) {
  return tlsRequest(`${server.issuer}${path}`, { ca: ca.certPem, cert, form, ...extra });
}

function clientCredentials(clientId: string, cert?: TestCertificate) {
  return post('/token', { grant_type: 'client_credentials', client_id: clientId, scope: api.scopes[0]! }, cert);
}

describe('the TLS listener', () => {
  it('serves HTTPS and asks for a certificate without requiring one: discovery answers a client with none', async () => {
    const response = await tlsRequest(`${server.issuer}/.well-known/openid-configuration`, { ca: ca.certPem });
    expect(response.status).toBe(200);
    expect(response.body.issuer).toBe(server.issuer);
  });

  it('advertises the certificate methods and bound tokens in discovery, and no mtls_endpoint_aliases', async () => {
    const { body } = await tlsRequest(`${server.issuer}/.well-known/openid-configuration`, { ca: ca.certPem });
    expect(body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining([
        'tls_client_auth',
        'self_signed_tls_client_auth',
        'private_key_jwt',
        'client_secret_basic',
      ]),
    );
    expect(body.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(body).not.toHaveProperty('mtls_endpoint_aliases');
  });
});

describe('tls_client_auth', () => {
  it('authenticates a client by the subject DN of a certificate from TLS_CLIENT_CA', async () => {
    const cert = certificates.issue(ca, { subject: '/O=Acme/CN=orders' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=orders,O=Acme',
    });
    expect(client).not.toHaveProperty('client_secret');
    expect(client.tls_client_auth_subject_dn).toBe('CN=orders,O=Acme');
    const response = await clientCredentials(String(client.client_id), cert);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    // Not created --certificate-bound: a plain bearer token.
    expect(confirmationOf(response.body.access_token)).toBeUndefined();
    expect(response.body.token_type).toBe('Bearer');
  });

  it('authenticates a client by a DNS name of its certificate (subjectAltName)', async () => {
    const name = `${unique('svc')}.internal`.toLowerCase();
    const cert = certificates.issue(ca, { subject: '/CN=whatever', dns: ['other.internal', name] });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_san_dns: name,
    });
    expect((await clientCredentials(String(client.client_id), cert)).status).toBe(200);
    const elsewhere = certificates.issue(ca, { subject: '/CN=whatever', dns: ['other.internal'] });
    expectInvalidClient(await clientCredentials(String(client.client_id), elsewhere));
  });

  it.each([
    ['no certificate', () => undefined],
    ['an expired certificate from the CA', () => certificates.issue(ca, { subject: '/O=Acme/CN=billing', days: -1 })],
    ['the same subject from another CA', () => certificates.issue(otherCa, { subject: '/O=Acme/CN=billing' })],
    [
      'a self-signed certificate with the same subject',
      () => certificates.selfSigned({ subject: '/O=Acme/CN=billing' }),
    ],
    ['another subject from the CA', () => certificates.issue(ca, { subject: '/O=Acme/CN=billing-admin' })],
  ])('refuses %s: 401 invalid_client', async (_what, make) => {
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=billing,O=Acme',
    });
    expectInvalidClient(await clientCredentials(String(client.client_id), make()));
  });

  it('refuses a certificate client that also sends a secret: one mechanism per request', async () => {
    const cert = certificates.issue(ca, { subject: '/CN=mixed' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=mixed',
    });
    const response = await post(
      '/token',
      {
        grant_type: 'client_credentials',
        client_id: String(client.client_id),
        client_secret: 'tgs_x',
        scope: api.scopes[0]!,
      },
      cert,
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe("a certificate client's rate limit", () => {
  it('counts requests its certificate authenticates, not those that only name it', async () => {
    const cert = certificates.issue(ca, { subject: '/CN=limited' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=limited',
      rate_limit: '2/min',
    });
    const clientId = String(client.client_id);
    for (let attempt = 0; attempt < 3; attempt += 1) expectInvalidClient(await clientCredentials(clientId));
    expect((await clientCredentials(clientId, cert)).status).toBe(200);
    expect((await clientCredentials(clientId, cert)).status).toBe(200);
    const refused = await clientCredentials(clientId, cert);
    expect(refused.status).toBe(429);
  });
});

describe('certificate-bound access tokens (--certificate-bound)', () => {
  it("carry cnf.x5t#S256, the thumbprint of the certificate presented, also in introspection's answer", async () => {
    const cert = certificates.issue(ca, { subject: '/CN=bound-orders' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=bound-orders',
      certificate_bound: true,
    });
    expect(client.tls_client_certificate_bound_access_tokens).toBe(true);
    const response = await clientCredentials(String(client.client_id), cert);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });

    // Introspection of the JWT, by the same client authenticating with its certificate.
    const introspection = await post(
      '/token/introspection',
      { token: String(response.body.access_token), client_id: String(client.client_id) },
      cert,
    );
    expect(introspection.status, JSON.stringify(introspection.body)).toBe(200);
    expect(introspection.body).toMatchObject({ active: true, cnf: { 'x5t#S256': cert.x5tS256 } });
    // Without its certificate, the client is not authenticated there either.
    expectInvalidClient(
      await post('/token/introspection', {
        token: String(response.body.access_token),
        client_id: String(client.client_id),
      }),
    );
  });

  it('binds the tokens of a secret client to the certificate it presents, whoever issued it; none: invalid_grant', async () => {
    const client = await createClient(server, { scopes: [api.scopes[0]], certificate_bound: true });
    const cert = certificates.selfSigned({ subject: '/CN=secret-client' });
    const auth = `Basic ${Buffer.from(`${String(client.client_id)}:${String(client.client_secret)}`).toString('base64')}`;
    const form = { grant_type: 'client_credentials', scope: api.scopes[0]! };
    const bound = await post('/token', form, cert, { headers: { authorization: auth } });
    expect(bound.status, JSON.stringify(bound.body)).toBe(200);
    expect(confirmationOf(bound.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
    const without = await post('/token', form, undefined, { headers: { authorization: auth } });
    expect(without.status).toBe(400);
    expect(without.body.error).toBe('invalid_grant');
  });

  it("keeps a renewed certificate's client authenticating; its old tokens stay bound to the old certificate", async () => {
    const first = certificates.issue(ca, { subject: '/O=Acme/CN=ledger' });
    const renewed = certificates.issue(ca, { subject: '/O=Acme/CN=ledger' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=ledger,O=Acme',
      certificate_bound: true,
    });
    const before = await clientCredentials(String(client.client_id), first);
    const after = await clientCredentials(String(client.client_id), renewed);
    expect(before.status).toBe(200);
    expect(after.status).toBe(200);
    expect(confirmationOf(before.body.access_token)).toEqual({ 'x5t#S256': first.x5tS256 });
    expect(confirmationOf(after.body.access_token)).toEqual({ 'x5t#S256': renewed.x5tS256 });
    // The old token, introspected by the client with its new certificate: still the old binding.
    const old = await post(
      '/token/introspection',
      { token: String(before.body.access_token), client_id: String(client.client_id) },
      renewed,
    );
    expect(old.body).toMatchObject({ active: true, cnf: { 'x5t#S256': first.x5tS256 } });
  });

  it("binds a public client's refresh token to its certificate (RFC 8705 §4): another or none is invalid_grant", async () => {
    const user = await server.admin('post', '/users', { username: unique('ada-'), password: 'violet-lantern-42-moss' });
    const redirectUri = 'https://app.example.test/callback';
    const client = await createClient(server, {
      public: true,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [redirectUri],
      scopes: ['openid', 'offline_access', api.scopes[0]],
      certificate_bound: true,
    });
    const clientId = String(client.client_id);
    const cert = certificates.selfSigned({ subject: '/CN=phone' });
    const other = certificates.selfSigned({ subject: '/CN=phone' });
    const { code, verifier } = await issueAuthorizationCode(server, {
      clientId,
      accountId: user.body.id,
      redirectUri,
      resource: api.identifier,
      scope: `openid offline_access ${api.scopes[0]}`,
    });
    const tokens = await post(
      '/token',
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
        client_id: clientId,
      },
      cert,
    );
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(confirmationOf(tokens.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
    const refresh = (presented?: TestCertificate) =>
      post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: clientId },
        presented,
      );
    for (const wrong of [other, undefined]) {
      const refused = await refresh(wrong);
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.error).toBe('invalid_grant');
    }
    const refreshed = await refresh(cert);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(confirmationOf(refreshed.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });
  });
});

describe('self_signed_tls_client_auth', () => {
  it('authenticates by a self-signed certificate whose public key the client registered; another key is refused', async () => {
    const cert = certificates.selfSigned({ subject: '/CN=partner-a' });
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'self_signed_tls_client_auth',
      public_key: publicKeyOf(cert),
      certificate_bound: true,
    });
    const response = await clientCredentials(String(client.client_id), cert);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(confirmationOf(response.body.access_token)).toEqual({ 'x5t#S256': cert.x5tS256 });

    const stranger = certificates.selfSigned({ subject: '/CN=partner-a' });
    expectInvalidClient(await clientCredentials(String(client.client_id), stranger));
    expectInvalidClient(await clientCredentials(String(client.client_id)));
    // Its certificate's key is also an RSA key's match, not only EC: a second key added works at once.
    const rsa = certificates.selfSigned({ subject: '/CN=partner-a', keyType: 'rsa' });
    expectInvalidClient(await clientCredentials(String(client.client_id), rsa));
    const added = await server.admin('post', `/clients/${String(client.client_id)}/keys`, {
      public_key: publicKeyOf(rsa),
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect((await clientCredentials(String(client.client_id), rsa)).status).toBe(200);
  });

  it.each([
    ['self-signed', () => certificates.selfSigned({ subject: '/CN=partner-b', days: -1 })],
    ['issued by another CA', () => certificates.issue(otherCa, { subject: '/CN=partner-b', days: -1 })],
  ])('refuses an expired certificate even with the registered key (%s)', async (_kind, make) => {
    const expired = make();
    const client = await createClient(server, {
      scopes: [api.scopes[0]],
      auth_method: 'self_signed_tls_client_auth',
      public_key: publicKeyOf(expired),
    });
    expectInvalidClient(await clientCredentials(String(client.client_id), expired));
  });
});

describe('switching a client between methods (clients update --auth-method)', () => {
  it('from a secret to a certificate: the old secret stops working at once; back: a new secret, shown once', async () => {
    const client = await createClient(server, { scopes: [api.scopes[0]] });
    const clientId = String(client.client_id);
    const basic = (secret: unknown) => ({
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${String(secret)}`).toString('base64')}` },
    });
    const form = { grant_type: 'client_credentials', scope: api.scopes[0]! };
    expect((await post('/token', form, undefined, basic(client.client_secret))).status).toBe(200);

    const cert = certificates.issue(ca, { subject: '/CN=switcher' });
    const switched = await server.admin('patch', `/clients/${clientId}`, {
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=switcher',
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(switched.body).not.toHaveProperty('client_secret');
    expect(switched.body.token_endpoint_auth_method).toBe('tls_client_auth');
    expectInvalidClient(await post('/token', form, undefined, basic(client.client_secret)));
    expect((await clientCredentials(clientId, cert)).status).toBe(200);

    const back = await server.admin('patch', `/clients/${clientId}`, { auth_method: 'client_secret_basic' });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.client_secret).toMatch(/^tgs_/);
    expect(back.body.tls_client_auth_subject_dn).toBeNull();
    expect((await post('/token', form, undefined, basic(back.body.client_secret))).status).toBe(200);
    expectInvalidClient(await post('/token', form, undefined, basic(client.client_secret)));
    expectInvalidClient(await clientCredentials(clientId, cert));

    const audit = await server.admin('get', '/audit?type=client.updated&limit=1000');
    const text = JSON.stringify((audit.body as { subject?: string }[]).filter((entry) => entry.subject === clientId));
    expect(text).toContain('tls_client_auth');
    expect(text).not.toContain(String(back.body.client_secret));
  });

  it('to self_signed_tls_client_auth with its key in the same update; without any key it is refused', async () => {
    const client = await createClient(server, { scopes: [api.scopes[0]] });
    const clientId = String(client.client_id);
    const refused = await server.admin('patch', `/clients/${clientId}`, { auth_method: 'self_signed_tls_client_auth' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/public key/);
    const cert = certificates.selfSigned({ subject: '/CN=switch-self' });
    const switched = await server.admin('patch', `/clients/${clientId}`, {
      auth_method: 'self_signed_tls_client_auth',
      public_key: publicKeyOf(cert),
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect((await clientCredentials(clientId, cert)).status).toBe(200);
  });

  it('from a secret to private_key_jwt with its key in the same update: the secret ends, assertions work', async () => {
    const client = await createClient(server, { scopes: [api.scopes[0]] });
    const clientId = String(client.client_id);
    const basic = {
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${String(client.client_secret)}`).toString('base64')}`,
      },
    };
    const form = { grant_type: 'client_credentials', scope: api.scopes[0]! };
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const switched = await server.admin('patch', `/clients/${clientId}`, {
      auth_method: 'private_key_jwt',
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(switched.body.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(switched.body).not.toHaveProperty('client_secret');
    expectInvalidClient(await post('/token', form, undefined, basic));

    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${server.issuer}/token`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    const signed = await post('/token', {
      ...form,
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  });

  it('refuses a subject without tls_client_auth, tls_client_auth without a subject, and a public client switching', async () => {
    const confidential = await createClient(server, { scopes: [api.scopes[0]] });
    for (const body of [{ tls_subject: 'CN=x' }, { auth_method: 'tls_client_auth' }]) {
      const response = await server.admin('patch', `/clients/${String(confidential.client_id)}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const publicClient = await createClient(server, {
      public: true,
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.test/cb'],
    });
    const response = await server.admin('patch', `/clients/${String(publicClient.client_id)}`, {
      auth_method: 'tls_client_auth',
      tls_subject: 'CN=x',
    });
    expect(response.status).toBe(400);
  });
});
