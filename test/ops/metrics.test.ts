import fc from 'fast-check';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createServiceClient } from '../helpers/fixtures.js';
import { tokenSuite } from '../helpers/token-suite.js';
import { issueKey, verify } from '../api-keys/api-key-helpers.js';

const suite = tokenSuite();
const { post, refresh, tokensFor, webAuth } = suite;

/** One sample of the exposition: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await suite.server.admin('get', '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = response.text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
  return { text: response.text, samples };
}

/** The value of one series (0 while it has not been created). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value ?? 0;
}

async function current(name: string, labels: Record<string, string> = {}): Promise<number> {
  return valueOf((await scrape()).samples, name, labels);
}

function routeLabels(samples: Sample[]): Set<string> {
  return new Set(
    samples
      .filter((sample) => sample.name === 'tollgate_http_request_duration_seconds_count')
      .map((sample) => sample.labels.route!),
  );
}

/**
 * Every route label value there can be, written out: oidc-provider's route names, Tollgate's own
 * pages and paths, the admin API's operation ids, and `other` for everything else.
 */
const KNOWN_ROUTES = new Set([
  'authorization',
  'backchannel_authentication',
  'challenge',
  'client',
  'client_delete',
  'client_update',
  'code_verification',
  'credential',
  'device_authorization',
  'device_resume',
  'discovery',
  'end_session',
  'end_session_confirm',
  'end_session_success',
  'introspection',
  'jwks',
  'openid_credential_issuer',
  'pushed_authorization_request',
  'registration',
  'resume',
  'revocation',
  'token',
  'userinfo',
  '/interaction/:uid',
  '/interaction/:uid/login',
  '/interaction/:uid/confirm',
  'healthz',
  'readyz',
  'stylesheet',
  'api_key_verification',
  'listApis',
  'createApi',
  'showApi',
  'updateApi',
  'deleteApi',
  'listClients',
  'createClient',
  'showClient',
  'updateClient',
  'deleteClient',
  'rotateClientSecret',
  'listApiKeys',
  'listClientApiKeys',
  'createApiKey',
  'showApiKey',
  'revokeApiKey',
  'rotateApiKey',
  'listUsers',
  'createUser',
  'showUser',
  'updateUser',
  'setUserPassword',
  'deleteUser',
  'listKeys',
  'rotateKeys',
  'revokeKey',
  'listAudit',
  'metrics',
  'openApi',
  'other',
]);

describe('GET /metrics on the admin listener', () => {
  it('needs the admin token', async () => {
    const response = await supertest(suite.server.adminUrl).get('/metrics');
    expect(response.status).toBe(401);
    expect(response.text).not.toContain('tollgate_');
  });

  it("lists the contract's series and Node's process metrics", async () => {
    // A token and an error first: a labelled series appears once it has a value.
    const client = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    expect(
      (
        await post(
          '/token',
          { grant_type: 'client_credentials' },
          { id: client.client_id, secret: client.client_secret },
        )
      ).status,
    ).toBe(200);
    const { text } = await scrape();
    for (const series of [
      'tollgate_tokens_issued_total{grant_type="client_credentials"}',
      '# TYPE tollgate_oauth_errors_total counter',
      '# TYPE tollgate_http_request_duration_seconds histogram',
      'tollgate_http_request_duration_seconds_bucket{le="0.005",route="token",status="200"}',
      'tollgate_refresh_token_reuse_total ',
      'tollgate_signing_key_rotations_total ',
      'tollgate_signing_key_age_seconds{alg="RS256"}',
      'tollgate_sign_in_failures_total ',
      'tollgate_sign_in_throttled_total ',
      'tollgate_jwks_not_modified_total ',
      '# TYPE tollgate_api_key_verifications_total counter',
      'process_cpu_user_seconds_total ',
      'nodejs_heap_size_used_bytes ',
    ]) {
      expect(text, series).toContain(series);
    }
  });

  it('counts a client-credentials token exactly once under its grant type', async () => {
    const client = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    const auth = { id: client.client_id, secret: client.client_secret };
    const before = await current('tollgate_tokens_issued_total', { grant_type: 'client_credentials' });
    const issued = await post('/token', { grant_type: 'client_credentials' }, auth);
    expect(issued.status).toBe(200);
    expect(await current('tollgate_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(before + 1);
  });

  it('counts an invalid_client answer by its error code', async () => {
    const client = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    const before = await current('tollgate_oauth_errors_total', { error: 'invalid_client' });
    const refused = await post(
      '/token',
      { grant_type: 'client_credentials' },
      { id: client.client_id, secret: 'wrong' },
    );
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(await current('tollgate_oauth_errors_total', { error: 'invalid_client' })).toBe(before + 1);
  });

  it('counts a refresh token presented again', async () => {
    const first = await tokensFor(webAuth());
    expect((await refresh(first.refresh_token)).status).toBe(200);
    const before = await current('tollgate_refresh_token_reuse_total');
    const reuse = await refresh(first.refresh_token);
    expect(reuse.body.error, JSON.stringify(reuse.body)).toBe('invalid_grant');
    expect(await current('tollgate_refresh_token_reuse_total')).toBe(before + 1);
  });

  it('counts a key rotation through the admin API, and shows the new key young', async () => {
    const before = await current('tollgate_signing_key_rotations_total');
    const rotated = await suite.server.admin('post', '/keys/rotate', { force: true });
    expect(rotated.status).toBe(200);
    const { samples } = await scrape();
    expect(valueOf(samples, 'tollgate_signing_key_rotations_total')).toBe(before + 1);
    const age = valueOf(samples, 'tollgate_signing_key_age_seconds', { alg: 'RS256' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });

  it('counts API key verifications by result, and never shows the key', async () => {
    const client = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    const issued = await issueKey(suite.server, { api: suite.api, client });
    const result = (value: string) => current('tollgate_api_key_verifications_total', { result: value });
    const [valid, invalid] = [await result('valid'), await result('invalid')];
    expect((await verify(suite.server, issued.key!, suite.api.identifier)).active).toBe(true);
    expect((await verify(suite.server, `${issued.key!.slice(0, -1)}x`, suite.api.identifier)).active).toBe(false);
    expect((await verify(suite.server, issued.key!, 'https://another.example')).active).toBe(false);
    expect(await result('valid')).toBe(valid + 1);
    expect(await result('invalid')).toBe(invalid + 2);
    expect((await scrape()).text).not.toContain(issued.key!);
  });

  it('counts JWKS revalidations answered 304', async () => {
    const jwks = await suite.server.public().get('/jwks');
    expect(jwks.status).toBe(200);
    const before = await current('tollgate_jwks_not_modified_total');
    const revalidated = await suite.server.public().get('/jwks').set('If-None-Match', jwks.headers.etag!);
    expect(revalidated.status).toBe(304);
    expect(await current('tollgate_jwks_not_modified_total')).toBe(before + 1);
  });

  it('counts a wrong password on the sign-in page, and the attempts the throttle refuses', async () => {
    // A browser's way in, without the browser: the authorization request sets the interaction cookie.
    const browser = supertest.agent(suite.server.issuer);
    const username = unique('nobody-');
    const start = await browser.get('/auth').query({
      client_id: suite.web.client_id,
      response_type: 'code',
      redirect_uri: 'https://app.example.com/callback',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    expect(start.status, start.text).toBe(303);
    const interaction = new URL(start.headers.location!, suite.server.issuer).pathname;
    const page = await browser.get(interaction);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf, page.text).toBeTruthy();
    const failuresBefore = await current('tollgate_sign_in_failures_total');
    const throttledBefore = await current('tollgate_sign_in_throttled_total');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12 && !statuses.includes(429); attempt += 1) {
      const refused = await browser
        .post(`${interaction}/login`)
        .type('form')
        .send({ csrf: csrf!, username, password: 'not-the-password' });
      statuses.push(refused.status);
    }
    const failures = statuses.filter((status) => status === 401).length;
    expect(failures).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe(429);
    expect(await current('tollgate_sign_in_failures_total')).toBe(failuresBefore + failures);
    expect(await current('tollgate_sign_in_throttled_total')).toBe(throttledBefore + 1);
  });

  it('shows the database pool: connections in use, queries waiting and how long they waited', async () => {
    const db = suite.server.tollgate.database.knex;
    const client = db.client as {
      pool: { max: number };
      acquireConnection(): Promise<unknown>;
      releaseConnection(connection: unknown): Promise<void>;
    };
    const before = (await scrape()).samples;
    // Every connection checked out (ten on PostgreSQL, PGlite's one on the embedded database),
    // then one more query: it has to wait for the pool.
    const held = await Promise.all(Array.from({ length: client.pool.max }, () => client.acquireConnection()));
    const waiting = db.raw('select 1');
    const queued = waiting.then(() => undefined);
    try {
      await expect.poll(async () => current('tollgate_db_pool_pending_acquires')).toBeGreaterThanOrEqual(1);
      expect(await current('tollgate_db_pool_connections_in_use')).toBe(client.pool.max);
    } finally {
      await Promise.all(held.map((connection) => client.releaseConnection(connection)));
    }
    await queued;
    const after = (await scrape()).samples;
    const waits = (samples: Sample[]) => valueOf(samples, 'tollgate_db_pool_wait_seconds_count');
    const waited = (samples: Sample[]) => valueOf(samples, 'tollgate_db_pool_wait_seconds_sum');
    expect(waits(after) - waits(before)).toBeGreaterThanOrEqual(client.pool.max + 1);
    // The queued query waited through at least one scrape: more than nothing, counted in seconds.
    expect(waited(after)).toBeGreaterThan(waited(before));
    expect(valueOf(after, 'tollgate_db_pool_pending_acquires')).toBe(0);
  });

  it('labels requests by route name: random paths never add a route label value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webPath(), fc.constantFrom('get', 'post'), async (path, method) => {
        const target = path.startsWith('/') ? path : `/${path}`;
        await suite.server.public()[method](target);
        await supertest(suite.server.adminUrl)
          [method](target)
          .set('Authorization', `Bearer ${suite.server.adminToken}`);
        const labels = routeLabels((await scrape()).samples);
        for (const label of labels) expect(KNOWN_ROUTES, `route="${label}" after ${method} ${target}`).toContain(label);
      }),
      { numRuns: 40 },
    );
    expect(routeLabels((await scrape()).samples)).toContain('other');
  });

  it('never shows a secret, a token or the admin token', async () => {
    const client = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    const issued = await post(
      '/token',
      { grant_type: 'client_credentials' },
      { id: client.client_id, secret: client.client_secret },
    );
    const tokens = await tokensFor(webAuth());
    const { text } = await scrape();
    for (const secret of [
      client.client_secret,
      String(issued.body.access_token),
      suite.web.client_secret,
      tokens.access_token,
      tokens.refresh_token,
      tokens.id_token,
      suite.server.adminToken,
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(text).not.toContain(secret);
    }
    // Nor who: no client id or user id labels.
    expect(text).not.toContain(client.client_id);
    expect(text).not.toContain(suite.userId);
  });
});
