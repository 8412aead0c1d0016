import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateFactory } from '../helpers/certificates.js';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from '../cli/cli-helpers.js';
import { publicKeyOf } from './mtls-helpers.js';

/** `tollgate clients create|update` with the RFC 8705 options: --auth-method, --tls-subject, --tls-san-dns, --certificate-bound. */

const cli = useCliServer();
const certificates = new CertificateFactory();
let server: TestServer;
const prefix = unique('clm');
const scope = `${prefix}:read`;

beforeAll(async () => {
  server = cli.server;
  runAgainst(cli);
  const api = await server.admin('post', '/apis', { identifier: `https://${prefix}.example.com`, scopes: [scope] });
  expect(api.status, JSON.stringify(api.body)).toBe(201);
});

afterAll(() => certificates.cleanup());

const create = (...options: string[]) => [
  'clients',
  'create',
  '--name',
  unique('svc-'),
  '--grant-types',
  'client_credentials',
  '--scopes',
  scope,
  ...options,
];

function secretToken(clientId: string, secret: string) {
  return server.public().post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });
}

describe('tollgate clients create with client certificates', () => {
  it('--auth-method tls_client_auth --tls-subject … --certificate-bound: no secret, the subject and the binding shown', async () => {
    const client = await tollgateJson(
      create('--auth-method', 'tls_client_auth', '--tls-subject', 'CN=orders,O=Acme', '--certificate-bound'),
    );
    expect(client).toMatchObject({
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=orders,O=Acme',
      tls_client_auth_san_dns: null,
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(client).not.toHaveProperty('client_secret');
  });

  it('--tls-san-dns NAME instead of a subject', async () => {
    const client = await tollgateJson(create('--auth-method', 'tls_client_auth', '--tls-san-dns', 'Orders.Internal'));
    expect(client).toMatchObject({ tls_client_auth_san_dns: 'orders.internal', tls_client_auth_subject_dn: null });
  });

  it('--auth-method self_signed_tls_client_auth --public-key FILE registers its first key', async () => {
    const cert = certificates.selfSigned({ subject: '/CN=partner' });
    const file = certificates.file(`${unique('k')}.pem`, publicKeyOf(cert));
    const client = await tollgateJson(create('--auth-method', 'self_signed_tls_client_auth', '--public-key', file));
    expect(client.token_endpoint_auth_method).toBe('self_signed_tls_client_auth');
    const keys = await tollgateJson<unknown[]>(['clients', 'list-keys', String(client.client_id)]);
    expect(keys).toHaveLength(1);
  });

  it.each([
    [['--auth-method', 'tls_client_auth'], /--tls-subject/],
    [['--auth-method', 'tls_client_auth', '--tls-subject', 'CN=a', '--tls-san-dns', 'a.internal'], /not both/],
    [['--tls-subject', 'CN=a'], /tls_client_auth/],
    [['--auth-method', 'tls_client_auth', '--tls-subject', 'orders'], /distinguished name/],
    [['--auth-method', 'tls_client_auth', '--tls-san-dns', '*.internal'], /DNS name/],
    [['--auth-method', 'self_signed_tls_client_auth'], /--public-key/],
    [['--auth-method', 'tls_client_auth_please'], /not offered/],
  ])('refuses %j with words naming the options', async (options, says) => {
    expect(expectFailure(await tollgate(create(...options)))).toMatch(says);
  });
});

describe('tollgate clients update --auth-method', () => {
  it('switching away from a secret ends it; back to client_secret_basic shows a new one once', async () => {
    const client = await tollgateJson(create());
    const clientId = String(client.client_id);
    expect((await secretToken(clientId, String(client.client_secret))).status).toBe(200);

    const switched = await tollgateJson([
      'clients',
      'update',
      clientId,
      '--auth-method',
      'tls_client_auth',
      '--tls-san-dns',
      'svc.internal',
      '--certificate-bound',
    ]);
    expect(switched).toMatchObject({
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(switched).not.toHaveProperty('client_secret');
    expect((await secretToken(clientId, String(client.client_secret))).status).toBe(401);

    const back = await tollgate([
      'clients',
      'update',
      clientId,
      '--auth-method',
      'client_secret_basic',
      '--no-certificate-bound',
    ]);
    expect(back.code, back.stderr).toBe(0);
    const shown = /client_secret: (tgs_\S+)/.exec(back.stdout)?.[1];
    expect(shown).toBeDefined();
    expect(back.stdout).toContain('shown once');
    expect(back.stdout.split(shown!)).toHaveLength(2);
    expect((await secretToken(clientId, shown!)).status).toBe(200);
    const shownAgain = await tollgateJson(['clients', 'show', clientId]);
    expect(shownAgain).toMatchObject({
      tls_client_certificate_bound_access_tokens: false,
      tls_client_auth_san_dns: null,
    });
  });

  it('rotate-secret is refused for a certificate client, saying why', async () => {
    const client = await tollgateJson(create('--auth-method', 'tls_client_auth', '--tls-subject', 'CN=rot'));
    expect(expectFailure(await tollgate(['clients', 'rotate-secret', String(client.client_id)]))).toMatch(
      /no secret to rotate/,
    );
  });
});
