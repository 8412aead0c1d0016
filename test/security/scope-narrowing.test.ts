import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAuthorizationCode } from '../helpers/authorization-code.js';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 14 item 4: narrowing a client's scopes (admin PATCH, `clients update ID --scopes …`)
 * applies to every token issued after it — refreshes of tokens granted before included.
 */
const REDIRECT_URI = 'https://app.example.com/callback';

let server: TestServer;
let api: ApiFixture;
let userId: string;
let read: string;
let write: string;

type Body = Record<string, unknown>;
interface WebClient {
  client_id: string;
  client_secret: string;
}

function tokenRequest(client: WebClient, form: Record<string, string>) {
  return server.public().post('/token').auth(client.client_id, client.client_secret).type('form').send(form);
}

function claimsOf(jwt: string): Body {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Body;
}

async function webClient(scopes: string[], grantTypes = ['authorization_code', 'refresh_token']): Promise<WebClient> {
  const response = await server.admin('post', '/clients', {
    name: unique('web-'),
    grant_types: grantTypes,
    redirect_uris: [REDIRECT_URI],
    scopes,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as WebClient;
}

async function narrow(client: WebClient, fields: Record<string, unknown>): Promise<void> {
  const response = await server.admin('patch', `/clients/${client.client_id}`, fields);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

/** A signed-in user's tokens: a code minted as the pages do, redeemed at /token. */
async function tokensFor(client: WebClient, scope: string, resource?: string) {
  const { code, verifier } = await issueAuthorizationCode(server, {
    clientId: client.client_id,
    accountId: userId,
    redirectUri: REDIRECT_URI,
    scope,
    resource: resource as string,
  });
  const response = await tokenRequest(client, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { access_token: string; refresh_token: string; scope: string };
}

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
  [read, write] = api.scopes as [string, string];
  const user = await server.admin('post', '/users', {
    username: unique('ida-'),
    password: 'copper-meadow-71-finch',
    email: 'ida@example.com',
  });
  userId = user.body.id;
});
afterAll(() => server?.close());

describe("narrowing a client's scopes", () => {
  it('reaches refresh tokens issued before: the refreshed token carries only what is still allowed', async () => {
    const client = await webClient(['openid', 'offline_access', read, write]);
    const first = await tokensFor(client, `openid offline_access ${read} ${write}`, api.identifier);
    expect(claimsOf(first.access_token).scope).toBe(`${read} ${write}`);

    await narrow(client, { scopes: ['openid', 'offline_access', read] });
    const refreshed = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    // RFC 6749 §5.1: the issued scope differs from the one granted, so the response says it.
    expect(refreshed.body.scope).toBe(read);
    expect(claimsOf(refreshed.body.access_token).scope).toBe(read);

    // And the next refresh too: the narrowing holds for the whole family.
    const again = await tokenRequest(client, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token,
    });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(claimsOf(again.body.access_token).scope).toBe(read);
  });

  it('refuses a refresh that names a removed scope with invalid_scope', async () => {
    const client = await webClient(['openid', 'offline_access', read, write]);
    const first = await tokensFor(client, `openid offline_access ${read} ${write}`, api.identifier);
    await narrow(client, { scopes: ['openid', 'offline_access', read] });
    const refused = await tokenRequest(client, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      scope: write,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_scope');
  });

  it("refuses a refresh when none of the API's granted scopes is left, rather than a token with no permission", async () => {
    const client = await webClient(['openid', 'offline_access', read, write]);
    const first = await tokensFor(client, `openid offline_access ${write}`, api.identifier);
    await narrow(client, { scopes: ['openid', 'offline_access', read] });
    const refused = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_scope');
    expect(refused.body.error_description).toContain(api.identifier);
  });

  it('reaches an authorization code issued before it was redeemed', async () => {
    const client = await webClient(['openid', 'offline_access', read, write]);
    const { code, verifier } = await issueAuthorizationCode(server, {
      clientId: client.client_id,
      accountId: userId,
      redirectUri: REDIRECT_URI,
      scope: `openid ${read} ${write}`,
      resource: api.identifier,
    });
    await narrow(client, { scopes: ['openid', read] });
    const response = await tokenRequest(client, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(claimsOf(response.body.access_token).scope).toBe(read);
  });

  it('reaches a device code confirmed before it was redeemed', async () => {
    const response = await server.admin('post', '/clients', {
      name: unique('tv-'),
      grant_types: ['device_code'],
      public: true,
      scopes: ['openid', read, write],
    });
    const device = response.body as { client_id: string };
    const { provider } = server.tollgate;
    const grant = new provider.Grant({ accountId: userId, clientId: device.client_id });
    grant.addOIDCScope('openid');
    grant.addResourceScope(api.identifier, `${read} ${write}`);
    const grantId = await grant.save();
    // A device code as the device pages leave it once the person allowed it.
    const code = new provider.DeviceCode({
      client: (await provider.Client.find(device.client_id))!,
      accountId: userId,
      grantId,
      userCode: 'BCDFGHJK',
      scope: `openid ${read} ${write}`,
      resource: api.identifier,
      authTime: Math.floor(Date.now() / 1000),
      params: { client_id: device.client_id, scope: `openid ${read} ${write}`, resource: api.identifier },
      gty: 'device_code',
    } as never);
    const deviceCode = await code.save();
    await narrow(device as WebClient, { scopes: ['openid', read] });
    const token = await server.public().post('/token').type('form').send({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: deviceCode,
      client_id: device.client_id,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(claimsOf(token.body.access_token).scope).toBe(read);
  });

  it('applies to OpenID scopes too: a removed `email` leaves the refreshed userinfo token and userinfo', async () => {
    const client = await webClient(['openid', 'offline_access', 'email']);
    const first = await tokensFor(client, 'openid offline_access email');
    const before = await server.public().get('/me').set('Authorization', `Bearer ${first.access_token}`);
    expect(before.status, before.text).toBe(200);
    expect(before.body.email).toBe('ida@example.com');

    await narrow(client, { scopes: ['openid', 'offline_access'] });
    const refreshed = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(refreshed.body.scope.split(' ')).not.toContain('email');
    const after = await server.public().get('/me').set('Authorization', `Bearer ${refreshed.body.access_token}`);
    expect(after.status, after.text).toBe(200);
    expect(after.body.email).toBeUndefined();
    expect(after.body.sub).toBe(userId);
  });

  it('client_credentials: the default scope is what the client is allowed now', async () => {
    const response = await server.admin('post', '/clients', {
      name: unique('svc-'),
      grant_types: ['client_credentials'],
      scopes: [read, write],
    });
    const client = response.body as WebClient;
    await narrow(client, { scopes: [read] });
    const token = await tokenRequest(client, { grant_type: 'client_credentials' });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(claimsOf(token.body.access_token).scope).toBe(read);
    const refused = await tokenRequest(client, { grant_type: 'client_credentials', scope: write });
    expect(refused.body.error).toBe('invalid_scope');
  });
});

describe('a client losing a grant type', () => {
  // oidc-provider answers invalid_request here (RFC 6749 §5.2 would say unauthorized_client).
  it('can no longer refresh once refresh_token is removed', async () => {
    const client = await webClient(['openid', 'offline_access', read]);
    const first = await tokensFor(client, `openid offline_access ${read}`, api.identifier);
    await narrow(client, { grant_types: ['authorization_code'] });
    const refused = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toMatch(/grant type is not allowed/);
  });
});
