import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let api: ApiFixture;
let otherApi: ApiFixture;
let client: ClientFixture;

async function discover(clientId: string, secret: string, auth: 'basic' | 'post' = 'basic') {
  return oidc.discovery(
    new URL(server.issuer),
    clientId,
    undefined,
    auth === 'basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret),
    { execute: [oidc.allowInsecureRequests] },
  );
}

async function tokenFailure(promise: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return { status: error.status, error: error.error };
    // A 401 carries its error in the WWW-Authenticate challenge as well as in the body.
    if (error instanceof oidc.WWWAuthenticateChallengeError) {
      return { status: error.status, error: String(error.cause[0]?.parameters.error) };
    }
    throw error;
  }
  throw new Error('expected the token request to fail');
}

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server, { token_ttl: 300 });
  otherApi = await createApi(server);
  client = await createServiceClient(server, [api.scopes[0]!]);
});

afterAll(() => server?.close());

describe('client credentials with openid-client', () => {
  it('issues an RFC 9068 JWT that verifies against the published JWKS', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]!, resource: api.identifier });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(300);

    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: api.identifier,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({
      iss: server.issuer,
      sub: client.client_id,
      aud: api.identifier,
      client_id: client.client_id,
      scope: api.scopes[0],
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toEqual(expect.any(String));
    expect(client.client_id.startsWith('client_')).toBe(true);
  });

  it('signs with the current key, not the pre-published next one', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
    const keys = (await server.admin('get', '/keys')).body as { kid: string; alg: string; state: string }[];
    const current = keys.find((key) => key.alg === 'ES256' && key.state === 'current');
    expect(decodeProtectedHeader(tokens.access_token).kid).toBe(current?.kid);
  });

  it('accepts client_secret_post as well as client_secret_basic', async () => {
    const config = await discover(client.client_id, client.client_secret, 'post');
    const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
    expect(tokens.access_token).toBeTruthy();
  });

  it('defaults the audience to the API that owns the requested scopes', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(payload.aud).toBe(api.identifier);
  });

  it("grants the client's allowed scopes of its one API when no scope is requested", async () => {
    const config = await discover(client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.scope).toBe(api.scopes[0]);
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(payload.aud).toBe(api.identifier);
  });

  it('gives every token its own jti', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const jtis = new Set<string>();
    for (let i = 0; i < 10; i += 1) {
      const { access_token } = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
      jtis.add(JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).jti);
    }
    expect(jtis.size).toBe(10);
  });

  it('writes nothing to the database per token', async () => {
    // Other test files share the PostgreSQL database, and their servers add and sweep rows of
    // their own: count what this server writes — every write it sends through knex — and the
    // rows a client-credentials token would be stored as (the hot path's prepared statements
    // bypass knex's query events).
    const knex = server.tollgate.database.knex;
    const writes: string[] = [];
    const onQuery = ({ sql }: { sql: string }) => {
      if (/^\s*(insert|update|delete|merge)\b/i.test(sql)) writes.push(sql);
    };
    const stored = async () =>
      Number((await knex('oidc_payloads').where({ kind: 'ClientCredentials' }).count({ n: '*' }))[0]!.n);
    const before = await stored();
    const config = await discover(client.client_id, client.client_secret);
    knex.on('query', onQuery);
    try {
      for (let i = 0; i < 5; i += 1) await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
    } finally {
      knex.removeListener('query', onQuery);
    }
    expect(writes).toEqual([]);
    expect(await stored()).toBe(before);
  });

  it('signs with the algorithm chosen for the API', async () => {
    for (const alg of ['RS256', 'PS256', 'EdDSA'] as const) {
      const algApi = await createApi(server, { alg });
      const algClient = await createServiceClient(server, [algApi.scopes[0]!]);
      const config = await discover(algClient.client_id, algClient.client_secret);
      const tokens = await oidc.clientCredentialsGrant(config, { resource: algApi.identifier });
      const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const { protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
        issuer: server.issuer,
        audience: algApi.identifier,
        algorithms: [alg],
      });
      expect(protectedHeader.alg).toBe(alg);
    }
  });
});

describe('client credentials errors (RFC 6749 §5.2)', () => {
  it('a wrong secret is 401 invalid_client with WWW-Authenticate', async () => {
    const response = await server
      .public()
      .post('/token')
      .auth(client.client_id, 'tgs_wrong')
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(response.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('an unknown client is invalid_client', async () => {
    const config = await discover('client_doesnotexist', 'tgs_whatever');
    expect(await tokenFailure(oidc.clientCredentialsGrant(config))).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('a scope of the API the client is not allowed is invalid_scope', async () => {
    const config = await discover(client.client_id, client.client_secret);
    expect(await tokenFailure(oidc.clientCredentialsGrant(config, { scope: api.scopes[1]! }))).toEqual({
      status: 400,
      error: 'invalid_scope',
    });
  });

  it('a scope of another API is invalid_scope, never dropped', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const failure = await tokenFailure(
      oidc.clientCredentialsGrant(config, {
        scope: `${api.scopes[0]} ${otherApi.scopes[0]}`,
        resource: api.identifier,
      }),
    );
    expect(failure).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('scopes of two APIs without a resource are invalid_target', async () => {
    const config = await discover(client.client_id, client.client_secret);
    const failure = await tokenFailure(
      oidc.clientCredentialsGrant(config, { scope: `${api.scopes[0]} ${otherApi.scopes[0]}` }),
    );
    expect(failure).toEqual({ status: 400, error: 'invalid_target' });
  });

  it('an unknown scope is invalid_scope', async () => {
    const config = await discover(client.client_id, client.client_secret);
    expect(await tokenFailure(oidc.clientCredentialsGrant(config, { scope: 'nobody:owns-this' }))).toEqual({
      status: 400,
      error: 'invalid_scope',
    });
  });

  it('OpenID scopes are invalid_scope for client credentials', async () => {
    const config = await discover(client.client_id, client.client_secret);
    expect(await tokenFailure(oidc.clientCredentialsGrant(config, { scope: 'openid' }))).toEqual({
      status: 400,
      error: 'invalid_scope',
    });
  });

  it('an unknown resource is invalid_target', async () => {
    const config = await discover(client.client_id, client.client_secret);
    expect(
      await tokenFailure(oidc.clientCredentialsGrant(config, { resource: 'https://unknown.example.com' })),
    ).toEqual({ status: 400, error: 'invalid_target' });
  });

  it('an API the client may not call at all is invalid_scope', async () => {
    const config = await discover(client.client_id, client.client_secret);
    expect(await tokenFailure(oidc.clientCredentialsGrant(config, { resource: otherApi.identifier }))).toEqual({
      status: 400,
      error: 'invalid_scope',
    });
  });

  it('an unsupported grant type is unsupported_grant_type', async () => {
    const response = await server
      .public()
      .post('/token')
      .auth(client.client_id, client.client_secret)
      .type('form')
      .send({ grant_type: 'password', username: 'a', password: 'b' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unsupported_grant_type');
  });
});
