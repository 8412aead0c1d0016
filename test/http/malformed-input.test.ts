import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ClientFixture } from '../helpers/fixtures.js';
import { rawRequest, type RawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const REDIRECT_URI = 'https://app.example.com/callback';
const PASSWORD = 'harbor-lilac-93-fjord';

let server: TestServer;
let publicPort: number;
let adminPort: number;
let service: ClientFixture;
let webClientId: string;
let deviceClientId: string;
let userId: string;
let apiId: string;
/** Paths from discovery, as a client finds them. */
let endpoints: Record<string, string>;

function pathOf(url: string): string {
  return new URL(url).pathname;
}

function errorLines(): string[] {
  return server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
}

function publicRequest(request: RawRequest): Promise<RawResponse> {
  return rawRequest(publicPort, request);
}

function adminRequest(request: RawRequest): Promise<RawResponse> {
  return rawRequest(adminPort, {
    ...request,
    headers: { authorization: `Bearer ${server.adminToken}`, ...request.headers },
  });
}

/** RFC 6749 §5.2: error_description is printable ASCII without `"` and `\`. */
const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

function expectOAuthError(response: RawResponse, status = 400, error = 'invalid_request'): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(response.body)).toMatchObject({ error, error_description: expect.any(String) });
}

function expectRfc6749Error(response: RawResponse, label: string): void {
  expect(response.headers['content-type'], label).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as { error?: unknown; error_description?: unknown };
  expect(body.error, label).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  if (body.error_description !== undefined) expect(body.error_description, label).toMatch(ERROR_DESCRIPTION);
}

beforeAll(async () => {
  server = await startServer();
  publicPort = Number(new URL(server.issuer).port);
  adminPort = Number(new URL(server.adminUrl).port);
  const api = await createApi(server);
  apiId = api.id;
  service = await createServiceClient(server, api.scopes);
  webClientId = (
    await server.admin('post', '/clients', {
      name: unique('web-'),
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      scopes: ['openid', api.scopes[0]],
    })
  ).body.client_id;
  deviceClientId = (
    await server.admin('post', '/clients', {
      name: unique('cli-'),
      public: true,
      grant_types: ['device_code'],
      scopes: ['openid', api.scopes[0]],
    })
  ).body.client_id;
  userId = (await server.admin('post', '/users', { username: unique('ada-'), password: PASSWORD })).body.id;
  const discovery = await server.public().get('/.well-known/openid-configuration');
  endpoints = Object.fromEntries(
    Object.entries(discovery.body as Record<string, unknown>)
      .filter((entry): entry is [string, string] => entry[0].endsWith('_endpoint') && typeof entry[1] === 'string')
      .map(([name, url]) => [name, pathOf(url)]),
  );
  endpoints.jwks_uri = pathOf((discovery.body as { jwks_uri: string }).jwks_uri);
});

afterAll(() => server?.close());

describe('a NUL byte never reaches the database (issue 14 item 5)', () => {
  const nul = 'a%00b';

  it("in the token endpoint's client_id, code, refresh_token, device_code: invalid_request, no error logged", async () => {
    const basic = `client_id=${service.client_id}&client_secret=${service.client_secret}`;
    const bodies = [
      `grant_type=client_credentials&client_id=${nul}&client_secret=x`,
      `grant_type=authorization_code&code=${nul}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'v'.repeat(43)}&${basic}`,
      `grant_type=refresh_token&refresh_token=${nul}&${basic}`,
      `grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=${nul}&client_id=${deviceClientId}`,
    ];
    for (const body of bodies) {
      expectOAuthError(await publicRequest({ method: 'POST', target: endpoints.token_endpoint!, headers: FORM, body }));
    }
    expect(errorLines()).toEqual([]);
  });

  it('in the token of introspection and revocation, and the client_id of device authorization and PAR', async () => {
    const basic = `client_id=${service.client_id}&client_secret=${service.client_secret}`;
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: endpoints.introspection_endpoint!,
        headers: FORM,
        body: `token=${nul}&${basic}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: endpoints.revocation_endpoint!,
        headers: FORM,
        body: `token=${nul}&${basic}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: endpoints.device_authorization_endpoint!,
        headers: FORM,
        body: `client_id=${nul}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: endpoints.pushed_authorization_request_endpoint!,
        headers: FORM,
        body: `client_id=${webClientId}&state=${nul}&response_type=code`,
      }),
    );
    expect(errorLines()).toEqual([]);
  });

  it("in the authorization request's client_id, state, nonce or request_uri: a readable 400 page", async () => {
    const valid = `response_type=code&client_id=${webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
    const queries = [
      `response_type=code&client_id=${nul}`,
      `${valid}&state=${nul}`,
      `${valid}&nonce=${nul}`,
      `client_id=${webClientId}&request_uri=urn:ietf:params:oauth:request_uri:${nul}`,
    ];
    for (const query of queries) {
      const response = await publicRequest({ method: 'GET', target: `${endpoints.authorization_endpoint}?${query}` });
      expect(response.status, query).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('Invalid request');
    }
    expect(errorLines()).toEqual([]);
  });

  it('in an end-session state or an interaction id: a page, not a 500', async () => {
    for (const target of [`${endpoints.end_session_endpoint}?state=${nul}`, `/interaction/${nul}`]) {
      const response = await publicRequest({ method: 'GET', target });
      expect(response.status, target).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('in an admin route id or a field: 400 invalid_request', async () => {
    for (const collection of ['apis', 'clients', 'users']) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const response = await adminRequest({
          method,
          target: `/${collection}/${nul}`,
          headers: { 'content-type': 'application/json' },
          body: method === 'PATCH' ? '{}' : undefined,
        });
        expectOAuthError(response);
      }
    }
    expectOAuthError(
      await adminRequest({
        method: 'POST',
        target: '/users',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'a\u0000b', password: PASSWORD }),
      }),
    );
    expectOAuthError(
      await adminRequest({
        method: 'PATCH',
        target: `/clients/${webClientId}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x\u0000' }),
      }),
    );
    expect(errorLines()).toEqual([]);
  });
});

describe('text that is not UTF-8, or not well encoded, is refused where it enters', () => {
  it('malformed percent-encoding, overlong or surrogate UTF-8, and raw bytes: invalid_request naming the parameter', async () => {
    for (const value of ['%zz', '%', '%FF', '%C0%AF', '%ED%A0%80', '%E2%82']) {
      const response = await publicRequest({
        method: 'POST',
        target: endpoints.token_endpoint!,
        headers: FORM,
        body: `grant_type=client_credentials&client_id=${value}`,
      });
      expectOAuthError(response);
      expect(JSON.parse(response.body).error_description).toContain("'client_id'");
    }
    const rawBytes = Buffer.concat([
      Buffer.from('grant_type=client_credentials&client_id='),
      Buffer.from([0xff, 0xfe]),
    ]);
    expectOAuthError(
      await publicRequest({ method: 'POST', target: endpoints.token_endpoint!, headers: FORM, body: rawBytes }),
    );
    expectOAuthError(await publicRequest({ method: 'GET', target: `${endpoints.userinfo_endpoint}?x=%ED%A0%80` }));
  });

  it("an error_description that quotes what the client sent stays within RFC 6749 §5.2's characters", async () => {
    const body = `grant_type=client_credentials&client_id=${service.client_id}&client_secret=${service.client_secret}&scope=..%2F..%2F`;
    const response = await publicRequest({ method: 'POST', target: endpoints.token_endpoint!, headers: FORM, body });
    expectOAuthError(response, 400, 'invalid_scope');
    const description = JSON.parse(response.body).error_description as string;
    expect(description).toMatch(ERROR_DESCRIPTION);
    expect(description).toContain("scope '../../' is not");
  });

  it('well-formed UTF-8 passes: a state with "é" reaches the sign-in page', async () => {
    const query = `response_type=code&client_id=${webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&state=caf%C3%A9+au+lait&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
    const response = await publicRequest({ method: 'GET', target: `${endpoints.authorization_endpoint}?${query}` });
    expect(response.status, response.body).toBe(303);
    expect(response.headers.location).toMatch(/\/interaction\//);
  });
});

describe('a form read by the input guard and handed on', () => {
  it('keeps a repeated parameter repeated: oidc-provider refuses it (RFC 6749 §3.2), for a parameter with and without "="', async () => {
    const credentials = `client_id=${service.client_id}&client_secret=${service.client_secret}`;
    for (const body of [
      `grant_type=client_credentials&grant_type=client_credentials&${credentials}`,
      `grant_type=client_credentials&scope&scope=a&${credentials}`,
    ]) {
      const response = await publicRequest({ method: 'POST', target: endpoints.token_endpoint!, headers: FORM, body });
      expectOAuthError(response);
      expect(JSON.parse(response.body).error_description, body).toMatch(/provided twice/);
    }
  });
});

describe('a request target without an absolute path (found by the sweep)', () => {
  it('a target Koa finds no path in ("//#?x=@", "*") is 400 invalid_request; "//host/…" is just not found', async () => {
    for (const target of ['//#?client_id=@&client_id=x', '*']) {
      const response = await publicRequest({ method: 'GET', target });
      if (refusedByHttpParser(response)) continue;
      expectOAuthError(response);
    }
    for (const target of ['//', '//example.com/token']) {
      expect((await publicRequest({ method: 'GET', target })).status, target).toBe(404);
    }
    expect(errorLines()).toEqual([]);
  });
});

describe('the device pages (issue 14 item 5)', () => {
  it('GET on the device authorization endpoint is 405 with Allow: POST, as JSON', async () => {
    const response = await publicRequest({ method: 'GET', target: endpoints.device_authorization_endpoint! });
    expectOAuthError(response, 405);
    expect(response.headers.allow).toBe('POST');
  });

  it('posting the code form without a session, or with an unknown one, is a page that starts again', async () => {
    for (const cookie of [undefined, '_session=unknown-session-id; _session.sig=bogus']) {
      const response = await publicRequest({
        method: 'POST',
        target: '/device',
        headers: { ...FORM, ...(cookie ? { cookie } : {}) },
        body: 'xsrf=abc&user_code=BCDF-GHJK',
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('This page has expired');
      expect(response.body).toContain('href="/device"');
    }
    const resume = await publicRequest({ method: 'GET', target: '/device/some-interaction-uid' });
    expect(resume.status).toBe(400);
    expect(errorLines()).toEqual([]);
  });

  it('the code page itself still works and its form posts with the session it started', async () => {
    const page = await server.public().get('/device');
    expect(page.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    const cookies = (page.headers['set-cookie'] as unknown as string[])
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    const wrongCode = await publicRequest({
      method: 'POST',
      target: '/device',
      headers: { ...FORM, cookie: cookies },
      body: `xsrf=${xsrf}&user_code=BCDF-GHJK`,
    });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body).toContain('That code is not valid');
  });
});

// ---------------------------------------------------------------------------------------------
// The sweep: random and malformed requests over every public and admin endpoint.

/** Pieces that have broken parsers somewhere: escapes, bytes, separators, sizes. */
const nastyPiece = fc.oneof(
  fc.constantFrom(
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    '%ED%A0%80',
    '%FF',
    '%C0%AF',
    '%0A',
    '%0D%0A',
    '%1F',
    '%7F',
    '+',
    '&',
    '=',
    '%25',
    '%u0000',
    '..%2F..%2F',
    '%2e%2e',
    '\\',
    '"',
    "'",
    '%3Cscript%3E',
    '[]',
    '{}',
    'null',
    '-1',
    '1e309',
    '\u00e9',
    'x'.repeat(5000),
  ),
  fc.string({ unit: 'binary', maxLength: 12 }).map((text) => encodeURIComponent(text)),
  fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).map((text) => text.replace(/[^\x21-\x7E]/g, '')),
);
const nastyText = fc.array(nastyPiece, { minLength: 0, maxLength: 4 }).map((pieces) => pieces.join(''));

function knownValues() {
  return [
    service.client_id,
    webClientId,
    deviceClientId,
    userId,
    apiId,
    'client_credentials',
    'authorization_code',
    'refresh_token',
    'urn:ietf:params:oauth:grant-type:device_code',
    'code',
    'openid',
    REDIRECT_URI,
  ];
}

const PARAMETER_NAMES = [
  'client_id',
  'client_secret',
  'grant_type',
  'code',
  'refresh_token',
  'device_code',
  'token',
  'token_type_hint',
  'state',
  'nonce',
  'request_uri',
  'redirect_uri',
  'response_type',
  'scope',
  'resource',
  'code_verifier',
  'code_challenge',
  'code_challenge_method',
  'user_code',
  'xsrf',
  'prompt',
  'claims',
  'post_logout_redirect_uri',
  'id_token_hint',
  'login',
  'password',
];

function formArbitrary() {
  const value = fc.oneof(nastyText, fc.constantFrom(...knownValues()).map(encodeURIComponent));
  const pair = fc
    .tuple(fc.oneof(fc.constantFrom(...PARAMETER_NAMES), nastyText), value)
    .map(([name, v]) => `${name}=${v}`);
  return fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&'));
}

function bodyArbitrary() {
  return fc.oneof(
    fc.constant(undefined),
    formArbitrary().map((text) => ({ type: 'application/x-www-form-urlencoded', body: Buffer.from(text) })),
    fc
      .jsonValue({ maxDepth: 3 })
      .map((value) => ({ type: 'application/json', body: Buffer.from(JSON.stringify(value)) })),
    fc
      .dictionary(
        fc.constantFrom(
          'name',
          'username',
          'password',
          'email',
          'identifier',
          'scopes',
          'grant_types',
          'redirect_uris',
          'public',
          'force',
          'token_ttl',
        ),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 20 }),
          fc.constantFrom('a\u0000b', '\ud800', 'user_x', 'https://u:p@app.example.com/cb'),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
        ),
      )
      .map((value) => ({ type: 'application/json', body: Buffer.from(JSON.stringify(value)) })),
    fc
      .uint8Array({ maxLength: 200 })
      .chain((bytes) =>
        fc
          .constantFrom(
            'application/x-www-form-urlencoded',
            'application/json',
            'text/plain',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded; charset=bogus',
          )
          .map((type) => ({ type, body: Buffer.from(bytes) })),
      ),
    fc.constant({ type: 'application/x-www-form-urlencoded', body: Buffer.alloc(70 * 1024, 'a') }),
  );
}

/** Node's HTTP parser refuses some request lines itself (raw non-ASCII, controls): a bare 400. */
function refusedByHttpParser(response: RawResponse): boolean {
  return response.status === 400 && !response.headers['content-type'] && response.body === '';
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND'];

function requestArbitrary(paths: string[]) {
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: fc.oneof(
        fc.constantFrom(...paths),
        fc.tuple(fc.constantFrom(...paths), nastyText).map(([path, extra]) => `${path}/${extra}`),
      ),
      query: fc.option(formArbitrary(), { nil: undefined }),
      body: bodyArbitrary(),
    })
    .map(({ method, path, query, body }): RawRequest => ({
      method,
      target: query ? `${path}?${query}` : path,
      headers: body ? { 'content-type': body.type } : {},
      body: method === 'GET' || method === 'HEAD' ? undefined : body?.body,
    }));
}

/** Bounded for `npm test` (a few seconds); SWEEP_RUNS=5000 sweeps deeper by hand. */
const SWEEP_RUNS = Number(process.env.SWEEP_RUNS) || 0;

describe('a property-based sweep: no input gets a 5xx', () => {
  it('public endpoints (from discovery), pages and health: never 5xx; OAuth endpoints refuse with RFC 6749 JSON', async () => {
    const oauthJson = new Set([
      endpoints.token_endpoint,
      endpoints.introspection_endpoint,
      endpoints.revocation_endpoint,
      endpoints.device_authorization_endpoint,
      endpoints.pushed_authorization_request_endpoint,
    ]);
    const paths = [
      ...new Set([
        ...Object.values(endpoints),
        '/.well-known/openid-configuration',
        '/.well-known/oauth-authorization-server',
        '/device',
        '/interaction/x',
        '/interaction/x/login',
        '/interaction/x/confirm',
        '/healthz',
        '/readyz',
        '/assets/style.css',
        '/',
      ]),
    ];
    await fc.assert(
      fc.asyncProperty(requestArbitrary(paths), async (request) => {
        const response = await publicRequest(request);
        expect(response.status, `${request.method} ${request.target.slice(0, 300)}`).toBeLessThan(500);
        const path = request.target.split('?')[0]!;
        if (refusedByHttpParser(response)) return;
        if (oauthJson.has(path) && request.method === 'POST' && (response.status === 400 || response.status === 401)) {
          expectRfc6749Error(response, `${request.method} ${request.target.slice(0, 300)}`);
        }
      }),
      { numRuns: SWEEP_RUNS || 150 },
    );
    expect(errorLines()).toEqual([]);
  });

  it('valid requests with one parameter made hostile: never 5xx, RFC 6749 JSON from OAuth endpoints', async () => {
    // Deeper than random requests reach: an authenticated client, a known grant type, then one
    // parameter replaced (or added) with a malformed value.
    const secret = `client_id=${service.client_id}&client_secret=${service.client_secret}`;
    const templates: Array<{ method: 'GET' | 'POST'; path: string; params: string; json: boolean }> = [
      {
        method: 'POST',
        path: endpoints.token_endpoint!,
        params: `grant_type=client_credentials&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: endpoints.token_endpoint!,
        params: `grant_type=refresh_token&refresh_token=abc&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: endpoints.token_endpoint!,
        params: `grant_type=authorization_code&code=abc&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'v'.repeat(43)}&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: endpoints.token_endpoint!,
        params: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=abc&client_id=${deviceClientId}`,
        json: true,
      },
      { method: 'POST', path: endpoints.introspection_endpoint!, params: `token=abc&${secret}`, json: true },
      { method: 'POST', path: endpoints.revocation_endpoint!, params: `token=abc&${secret}`, json: true },
      {
        method: 'POST',
        path: endpoints.device_authorization_endpoint!,
        params: `client_id=${deviceClientId}&scope=openid`,
        json: true,
      },
      {
        method: 'POST',
        path: endpoints.pushed_authorization_request_endpoint!,
        params: `response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256&${secret}`,
        json: true,
      },
      {
        method: 'GET',
        path: endpoints.authorization_endpoint!,
        params: `response_type=code&client_id=${webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&state=s&nonce=n&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`,
        json: false,
      },
      { method: 'GET', path: endpoints.end_session_endpoint!, params: `client_id=${webClientId}&state=s`, json: false },
    ];
    const hostile = fc.record({
      template: fc.constantFrom(...templates),
      name: fc.constantFrom(...PARAMETER_NAMES),
      value: nastyText,
      replace: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(hostile, async ({ template, name, value, replace }) => {
        const params = replace
          ? template.params
              .split('&')
              .map((pair) => (pair.startsWith(`${name}=`) ? `${name}=${value}` : pair))
              .join('&')
          : `${template.params}&${name}=${value}`;
        const request: RawRequest =
          template.method === 'GET'
            ? { method: 'GET', target: `${template.path}?${params}` }
            : { method: 'POST', target: template.path, headers: FORM, body: params };
        const response = await publicRequest(request);
        const label = `${request.method} ${template.path} ${params.slice(0, 300)}`;
        expect(response.status, label).toBeLessThan(500);
        if (template.json && response.status >= 400) expectRfc6749Error(response, label);
      }),
      { numRuns: SWEEP_RUNS || 150 },
    );
    expect(errorLines()).toEqual([]);
  });

  it('admin routes: never 5xx, errors as JSON', async () => {
    const paths = [
      '/apis',
      `/apis/${apiId}`,
      '/clients',
      `/clients/${webClientId}`,
      `/clients/${webClientId}/rotate-secret`,
      '/users',
      `/users/${userId}`,
      `/users/${userId}/password`,
      '/keys',
      '/x',
    ];
    await fc.assert(
      fc.asyncProperty(requestArbitrary(paths), fc.boolean(), async (request, withToken) => {
        const response = await (withToken ? adminRequest(request) : rawRequest(adminPort, request));
        const label = `${request.method} ${request.target.slice(0, 300)}`;
        expect(response.status, label).toBeLessThan(500);
        if (response.status >= 400 && request.method !== 'HEAD' && !refusedByHttpParser(response)) {
          expect(response.headers['content-type'], label).toMatch(/^application\/json/);
          expect(JSON.parse(response.body), label).toHaveProperty('error');
        }
      }),
      { numRuns: SWEEP_RUNS || 120 },
    );
    expect(errorLines()).toEqual([]);
  });
});
