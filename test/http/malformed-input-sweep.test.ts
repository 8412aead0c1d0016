import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import {
  ERROR_DESCRIPTION,
  FORM,
  PASSWORD,
  REDIRECT_URI,
  malformedInputSuite,
  refusedByHttpParser,
} from '../helpers/malformed-input-suite.js';
import { rawRequest, type RawRequest, type RawResponse } from '../helpers/raw-http.js';

// The sweep: random and malformed requests over every public and admin endpoint. The hand-written
// cases (some found by this sweep) are test/http/malformed-input.test.ts.

const suite = malformedInputSuite();
const { errorLines, publicRequest, adminRequest } = suite;
let userId: string;

beforeAll(async () => {
  userId = (await suite.server.admin('post', '/users', { username: unique('ada-'), password: PASSWORD })).body.id;
});

function expectRfc6749Error(response: RawResponse, label: string): void {
  expect(response.headers['content-type'], label).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as { error?: unknown; error_description?: unknown };
  expect(body.error, label).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  if (body.error_description !== undefined) expect(body.error_description, label).toMatch(ERROR_DESCRIPTION);
}

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
    suite.service.client_id,
    suite.webClientId,
    suite.deviceClientId,
    userId,
    suite.apiId,
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
      suite.endpoints.token_endpoint,
      suite.endpoints.introspection_endpoint,
      suite.endpoints.revocation_endpoint,
      suite.endpoints.device_authorization_endpoint,
      suite.endpoints.pushed_authorization_request_endpoint,
    ]);
    const paths = [
      ...new Set([
        ...Object.values(suite.endpoints),
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
    const secret = `client_id=${suite.service.client_id}&client_secret=${suite.service.client_secret}`;
    const templates: Array<{ method: 'GET' | 'POST'; path: string; params: string; json: boolean }> = [
      {
        method: 'POST',
        path: suite.endpoints.token_endpoint!,
        params: `grant_type=client_credentials&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: suite.endpoints.token_endpoint!,
        params: `grant_type=refresh_token&refresh_token=abc&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: suite.endpoints.token_endpoint!,
        params: `grant_type=authorization_code&code=abc&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'v'.repeat(43)}&${secret}`,
        json: true,
      },
      {
        method: 'POST',
        path: suite.endpoints.token_endpoint!,
        params: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=abc&client_id=${suite.deviceClientId}`,
        json: true,
      },
      { method: 'POST', path: suite.endpoints.introspection_endpoint!, params: `token=abc&${secret}`, json: true },
      { method: 'POST', path: suite.endpoints.revocation_endpoint!, params: `token=abc&${secret}`, json: true },
      {
        method: 'POST',
        path: suite.endpoints.device_authorization_endpoint!,
        params: `client_id=${suite.deviceClientId}&scope=openid`,
        json: true,
      },
      {
        method: 'POST',
        path: suite.endpoints.pushed_authorization_request_endpoint!,
        params: `response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256&${secret}`,
        json: true,
      },
      {
        method: 'GET',
        path: suite.endpoints.authorization_endpoint!,
        params: `response_type=code&client_id=${suite.webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&state=s&nonce=n&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`,
        json: false,
      },
      {
        method: 'GET',
        path: suite.endpoints.end_session_endpoint!,
        params: `client_id=${suite.webClientId}&state=s`,
        json: false,
      },
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
      `/apis/${suite.apiId}`,
      '/clients',
      `/clients/${suite.webClientId}`,
      `/clients/${suite.webClientId}/rotate-secret`,
      '/users',
      `/users/${userId}`,
      `/users/${userId}/password`,
      '/keys',
      '/x',
    ];
    await fc.assert(
      fc.asyncProperty(requestArbitrary(paths), fc.boolean(), async (request, withToken) => {
        const response = await (withToken ? adminRequest(request) : rawRequest(suite.adminPort, request));
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
