import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { keyClient, partnerKey, type KeyJson, type PartnerKey } from '../clients/client-key-helpers.js';

/**
 * private_key_jwt (RFC 7523) at the token endpoint: a client authenticates with an assertion
 * signed by one of the public keys it registered (clients add-key, or --public-key at creation).
 * The assertions are made by jose, independently of Tollgate, and by openid-client as a real client.
 */

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let server: TestServer;
let api: ApiFixture;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(() => server?.close());

interface AssertionOptions {
  kid?: string;
  aud?: string | string[];
  /** Seconds from now. */
  expiresIn?: number;
  jti?: string;
  alg?: string;
  iss?: string;
}

/** An RFC 7523 client assertion, signed by jose with the partner's private key. */
function assertion(clientId: string, key: PartnerKey, options: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: options.jti ?? crypto.randomUUID() })
    .setProtectedHeader({ alg: options.alg ?? key.jws, ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuer(options.iss ?? clientId)
    .setSubject(clientId)
    .setAudience(options.aud ?? server.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 60))
    .sign(key.privateKey);
}

function tokenRequest(on: TestServer, clientAssertion: string, fields: Record<string, string> = {}) {
  return on
    .public()
    .post('/token')
    .type('form')
    .send({
      grant_type: 'client_credentials',
      scope: api.scopes[0]!,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: clientAssertion,
      ...fields,
    });
}

function expectInvalidClient(response: { status: number; body: unknown }): void {
  expect(response.status, JSON.stringify(response.body)).toBe(401);
  expect((response.body as { error: string }).error).toBe('invalid_client');
}

describe('private_key_jwt at the token endpoint', () => {
  it.each([
    ['Ed25519 (EdDSA)', () => partnerKey('ed25519'), undefined],
    ['P-256 (ES256)', () => partnerKey('p256'), undefined],
    ['RSA (PS256)', () => partnerKey('rsa'), undefined],
    ['RSA (RS256)', () => partnerKey('rsa'), 'RS256'],
  ])('issues a token for an assertion signed with its %s key, with or without kid', async (_what, make, alg) => {
    const key = make();
    const { clientId, keyid } = await keyClient(server, key, [api.scopes[0]!]);
    for (const kid of [keyid, undefined]) {
      const response = await tokenRequest(server, await assertion(clientId, key, { kid, alg }));
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.access_token).toEqual(expect.any(String));
    }
  });

  it('accepts the token endpoint URL as audience too, and client_id beside the assertion', async () => {
    const key = partnerKey('ed25519');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!]);
    const aud = `${server.issuer}/token`;
    expect((await tokenRequest(server, await assertion(clientId, key, { aud }))).status).toBe(200);
    const withId = await tokenRequest(server, await assertion(clientId, key), { client_id: clientId });
    expect(withId.status, JSON.stringify(withId.body)).toBe(200);
  });

  it('refuses an assertion signed by another key, even one naming its keyid', async () => {
    const key = partnerKey('p256');
    const { clientId, keyid } = await keyClient(server, key, [api.scopes[0]!]);
    const stranger = partnerKey('p256');
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, stranger, { kid: keyid })));
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, stranger)));
    // Another client's registered key does not sign for this one.
    const other = partnerKey('p256');
    await keyClient(server, other, [api.scopes[0]!]);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, other)));
  });

  it('refuses a key once removed, and takes one added', async () => {
    const first = partnerKey('ed25519');
    const { clientId, keyid } = await keyClient(server, first, [api.scopes[0]!]);
    expect((await tokenRequest(server, await assertion(clientId, first))).status).toBe(200);
    const second = partnerKey('rsa');
    const added = await server.admin('post', `/clients/${clientId}/keys`, { public_key: second.jwk });
    expect(added.status).toBe(201);
    expect((await tokenRequest(server, await assertion(clientId, second))).status).toBe(200);
    expect((await server.admin('delete', `/clients/${clientId}/keys/${keyid}`)).status).toBe(200);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, first)));
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, first, { kid: keyid })));
    const kid = (added.body as KeyJson).keyid;
    expect((await tokenRequest(server, await assertion(clientId, second, { kid }))).status).toBe(200);
  });

  it('refuses an expired assertion, a wrong audience, a wrong issuer and an HMAC or unsigned one', async () => {
    const key = partnerKey('ed25519');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!]);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, key, { expiresIn: -120 })));
    expectInvalidClient(
      await tokenRequest(server, await assertion(clientId, key, { aud: 'https://elsewhere.example' })),
    );
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, key, { aud: api.identifier })));
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, key, { iss: 'client_someone' })));
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: clientId, sub: clientId, aud: server.issuer, jti: crypto.randomUUID(), exp: now + 60 };
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(crypto.randomBytes(32));
    expectInvalidClient(await tokenRequest(server, hmac));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expectInvalidClient(await tokenRequest(server, unsigned));
  });

  it('refuses an assertion presented twice (the same jti), also when both arrive together', async () => {
    const key = partnerKey('p256');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!]);
    const once = await assertion(clientId, key);
    expect((await tokenRequest(server, once)).status).toBe(200);
    expectInvalidClient(await tokenRequest(server, once));
    // A new signature over the same jti is the same assertion to the server.
    const jti = crypto.randomUUID();
    expect((await tokenRequest(server, await assertion(clientId, key, { jti }))).status).toBe(200);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, key, { jti })));

    const together = await assertion(clientId, key);
    const statuses = (await Promise.all(Array.from({ length: 8 }, () => tokenRequest(server, together)))).map(
      (response) => response.status,
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(7);
  });

  it('refuses a client_secret from a private_key_jwt client: it has none', async () => {
    const key = partnerKey('ed25519');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!]);
    const basic = await server
      .public()
      .post('/token')
      .auth(clientId, 'tgs_made-up-secret')
      .type('form')
      .send({ grant_type: 'client_credentials', scope: api.scopes[0]! });
    expectInvalidClient(basic);
    const post = await server
      .public()
      .post('/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'x', scope: api.scopes[0]! });
    expectInvalidClient(post);
    const nothing = await server
      .public()
      .post('/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: clientId, scope: api.scopes[0]! });
    expectInvalidClient(nothing);
  });

  it('refuses an assertion from a client_secret_basic client, even one with keys', async () => {
    const key = partnerKey('ed25519');
    const created = await server.admin('post', '/clients', {
      name: 'secret partner',
      grant_types: ['client_credentials'],
      scopes: [api.scopes[0]!],
    });
    const clientId = (created.body as { client_id: string }).client_id;
    expect((await server.admin('post', `/clients/${clientId}/keys`, { public_key: key.pem })).status).toBe(201);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, key)));
  });

  it('works with openid-client as the client (PrivateKeyJwt)', async () => {
    const key = partnerKey('p256');
    const { clientId, keyid } = await keyClient(server, key, [api.scopes[0]!]);
    const config = await oidc.discovery(
      new URL(server.issuer),
      clientId,
      undefined,
      oidc.PrivateKeyJwt({
        key: key.privateKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
        kid: keyid,
      }),
      { execute: [oidc.allowInsecureRequests] },
    );
    for (let i = 0; i < 2; i++) {
      const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
      expect(tokens.access_token).toEqual(expect.any(String));
    }
  });

  it('is advertised in discovery with the asymmetric signing algorithms, never HMAC', async () => {
    const response = await server.public().get('/.well-known/openid-configuration');
    expect(response.body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']),
    );
    expect(response.body.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    const algs = response.body.token_endpoint_auth_signing_alg_values_supported as string[];
    expect(algs).toEqual(expect.arrayContaining(['EdDSA', 'ES256', 'PS256', 'RS256']));
    expect(algs.filter((alg) => alg.startsWith('HS'))).toEqual([]);
  });
});

describe('private_key_jwt and the client rate limit', () => {
  it('counts only requests whose assertion verifies: forged ones never use up the limit', async () => {
    const key = partnerKey('ed25519');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!], { rate_limit: '2/h' });
    const forger = partnerKey('ed25519');
    for (let i = 0; i < 4; i++) expectInvalidClient(await tokenRequest(server, await assertion(clientId, forger)));
    expect((await tokenRequest(server, await assertion(clientId, key))).status).toBe(200);
    expect((await tokenRequest(server, await assertion(clientId, key))).status).toBe(200);
    const third = await tokenRequest(server, await assertion(clientId, key));
    expect(third.status, JSON.stringify(third.body)).toBe(429);
    expect(third.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('private_key_jwt at introspection of JWT access tokens', () => {
  it('lets the client introspect its own tokens with an assertion, used once', async () => {
    const key = partnerKey('p256');
    const { clientId } = await keyClient(server, key, [api.scopes[0]!]);
    const token = (await tokenRequest(server, await assertion(clientId, key))).body.access_token as string;
    const introspect = (clientAssertion: string) =>
      server.public().post('/token/introspection').type('form').send({
        token,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
      });
    const once = await assertion(clientId, key, { aud: `${server.issuer}/token/introspection` });
    const answer = await introspect(once);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ active: true, client_id: clientId });
    expectInvalidClient(await introspect(once));
    expectInvalidClient(await introspect(await assertion(clientId, partnerKey('p256'))));
  });
});

describe.skipIf(!onPostgres)('private_key_jwt across two instances', () => {
  let b: TestServer;
  beforeAll(async () => {
    b = await startServer();
  });
  afterAll(() => b?.close());

  /** Polls until the condition holds; returns how long it took (test/oidc/cache-across-instances.test.ts). */
  async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (await condition()) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`condition not met within ${ms} ms`);
  }

  it('a key removed on one instance stops authenticating on the other within 5 s; an assertion used on one is refused on the other', async () => {
    const first = partnerKey('ed25519');
    const { clientId, keyid } = await keyClient(server, first, [api.scopes[0]!]);
    const second = partnerKey('p256');
    expect((await server.admin('post', `/clients/${clientId}/keys`, { public_key: second.pem })).status).toBe(201);

    // The test's two instances have an issuer each (their ports): an assertion for both names both.
    const both = { aud: [server.issuer, b.issuer] };
    const used = await assertion(clientId, first, both);
    expect((await tokenRequest(b, used)).status).toBe(200); // b has the client cached now
    expectInvalidClient(await tokenRequest(server, used));

    expect((await server.admin('delete', `/clients/${clientId}/keys/${keyid}`)).status).toBe(200);
    expectInvalidClient(await tokenRequest(server, await assertion(clientId, first, both)));
    const took = await within(
      5_000,
      async () => (await tokenRequest(b, await assertion(clientId, first, both))).status === 401,
    );
    expect(took).toBeLessThan(5_000);
    expect((await tokenRequest(b, await assertion(clientId, second, both))).status).toBe(200);
  });
});
