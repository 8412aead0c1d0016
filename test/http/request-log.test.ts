import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

interface LogLine {
  msg?: string;
  method?: string;
  route?: string;
  status?: number;
  duration_ms?: number;
  client_id?: string;
  [field: string]: unknown;
}

let server: TestServer;
let api: ApiFixture;
let client: ClientFixture;
/** Every credential that went over the wire during the flow; none may reach the log. */
const secrets: { label: string; value: string }[] = [];
/** The requests the flow made to the public listener, in order. */
const publicRequests: { method: string; route: string; status: number; clientId?: string }[] = [];
let flowLines: LogLine[] = [];
let logText = '';

function basic(id: string, secret: string): string {
  return Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

function parse(lines: string[]): LogLine[] {
  return lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as LogLine);
}

beforeAll(async () => {
  server = await startServer();
  secrets.push({ label: 'admin token', value: server.adminToken });
  const firstLine = server.logs.length;

  // The admin side: an API and a client, made through the admin API.
  api = await createApi(server);
  const created = await server.admin('post', '/clients', {
    name: unique('logged-'),
    grant_types: ['client_credentials'],
    scopes: [api.scopes[0]],
  });
  expect(created.status).toBe(201);
  client = created.body as ClientFixture;
  secrets.push({ label: 'client secret', value: client.client_secret });

  // client_secret_basic, through openid-client (discovery, then the token endpoint).
  const config = await oidc.discovery(
    new URL(server.issuer),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client.client_secret),
    { execute: [oidc.allowInsecureRequests] },
  );
  publicRequests.push({ method: 'GET', route: 'discovery', status: 200 });
  const basicTokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
  publicRequests.push({ method: 'POST', route: 'token', status: 200, clientId: client.client_id });
  secrets.push({ label: 'access token (basic)', value: basicTokens.access_token });
  secrets.push({ label: 'Basic header value', value: basic(client.client_id, client.client_secret) });

  // client_secret_post.
  const posted = await server.public().post('/token').type('form').send({
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    scope: api.scopes[0],
  });
  expect(posted.status).toBe(200);
  publicRequests.push({ method: 'POST', route: 'token', status: 200, clientId: client.client_id });
  secrets.push({ label: 'access token (post)', value: posted.body.access_token as string });

  // A wrong secret, in a Basic header.
  const wrongSecret = `tgs_${unique('wrong')}`;
  const wrong = await server
    .public()
    .post('/token')
    .set('Authorization', `Basic ${basic(client.client_id, wrongSecret)}`)
    .type('form')
    .send({ grant_type: 'client_credentials' });
  expect(wrong.status).toBe(401);
  publicRequests.push({ method: 'POST', route: 'token', status: 401 });
  secrets.push({ label: 'wrong secret', value: wrongSecret });
  secrets.push({ label: 'Basic header value (wrong secret)', value: basic(client.client_id, wrongSecret) });

  // A bearer token where it does not belong: the Authorization header must not be logged either.
  const bearer = await server
    .public()
    .post('/token')
    .set('Authorization', `Bearer ${basicTokens.access_token}`)
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret });
  expect(bearer.status).toBeGreaterThanOrEqual(400);
  expect(bearer.status).toBeLessThan(500);
  publicRequests.push({ method: 'POST', route: 'token', status: bearer.status });

  // A secret in the query string of a request.
  const queried = await server
    .public()
    .get('/healthz')
    .query({ client_secret: client.client_secret, access_token: basicTokens.access_token });
  expect(queried.status).toBe(200);
  publicRequests.push({ method: 'GET', route: '/healthz', status: 200 });

  const lines = server.logs.slice(firstLine);
  logText = lines.join('');
  flowLines = parse(lines).filter((line) => line.msg === 'request');
});

afterAll(() => server?.close());

describe('the request log', () => {
  it('is JSON, one line per request, admin and public alike', () => {
    // The admin listener logs through the same logger: its two requests, then the public ones, each once.
    const adminLines = flowLines.filter((line) => line.route === '/apis' || line.route === '/clients');
    expect(adminLines.map((line) => [line.method, line.route, line.status])).toEqual([
      ['POST', '/apis', 201],
      ['POST', '/clients', 201],
    ]);
    const publicLines = flowLines.filter((line) => !adminLines.includes(line));
    expect(publicLines.map((line) => ({ method: line.method, route: line.route, status: line.status }))).toEqual(
      publicRequests.map(({ method, route, status }) => ({ method, route, status })),
    );
  });

  it('gives every line method, route, status and duration_ms', () => {
    expect(flowLines.length).toBeGreaterThan(0);
    for (const line of flowLines) {
      expect(line.method).toMatch(/^(GET|POST)$/);
      expect(line.route).toEqual(expect.any(String));
      expect(line.status).toEqual(expect.any(Number));
      expect(line.duration_ms).toEqual(expect.any(Number));
      expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('names the authenticated client on token requests', () => {
    const tokenLines = flowLines.filter((line) => line.route === 'token' && line.status === 200);
    expect(tokenLines).toHaveLength(2);
    for (const line of tokenLines) expect(line.client_id).toBe(client.client_id);
  });

  it('contains no secret, token or Authorization header value', () => {
    expect(logText.length).toBeGreaterThan(0);
    for (const { label, value } of secrets) {
      expect(logText.includes(value), `the log contains the ${label}`).toBe(false);
    }
    // Not even a part of one: the Basic credentials and the secrets, in any 16-character window.
    for (const { label, value } of secrets) {
      for (let start = 0; start + 16 <= value.length; start += 8) {
        const part = value.slice(start, start + 16);
        expect(logText.includes(part), `the log contains part of the ${label}: ${part}`).toBe(false);
      }
    }
    expect(logText).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}/);
    expect(logText).not.toMatch(/Bearer /);
    expect(logText).not.toMatch(/client_secret=/);
  });
});
