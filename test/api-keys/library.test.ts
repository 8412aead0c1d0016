import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@tollgate/resource-server';
import { generateApiKey } from '@tollgate/resource-server/api-key-format';
import { createApi } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, type Partner } from './api-key-helpers.js';
import { accessToken, INVALID_KEY, RecordingFetch, refusal, SERVER_ENV, setKeyColumns } from './library-helpers.js';

// @tollgate/resource-server's verifyRequest with API keys, against a real Tollgate issuing real
// keys: what an API sees of each key and of Tollgate's failures.

let server: TestServer;
let partner: Partner;
let recording: RecordingFetch;
let verifier: Verifier;

const PAST = new Date(Date.now() - 1000);
const request = (headers: Record<string, string>) => ({ method: 'GET', url: 'http://api.example.com/orders', headers });
const API_KEYS = { schemes: ['api-key' as const] };

function newVerifier(options: { apiKeyCacheSeconds?: number; timeout?: number } = {}): Verifier {
  return createVerifier({
    issuer: server.issuer,
    audience: partner.api.identifier,
    fetch: recording.fetch,
    ...options,
  });
}

/** Polls until `verifier` refuses `key`; resolves to when it did, or fails after `limitMs`. */
async function refusedAt(target: Verifier, key: string, limitMs: number): Promise<number> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const accepted = await target.verifyRequest(request({ 'x-api-key': key }), API_KEYS).then(
      () => true,
      () => false,
    );
    if (!accepted) return Date.now();
    if (Date.now() > deadline) return expect.unreachable(`still accepted after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  server = await startServer({ env: SERVER_ENV });
  partner = await createPartner(server);
  recording = await RecordingFetch.create();
  verifier = newVerifier();
});

afterAll(async () => {
  await recording?.close();
  await server?.close();
});

describe('verifyRequest with an API key', () => {
  it('accepts the key in X-API-Key and as Authorization: Bearer, resolving to its client, scopes and key id', async () => {
    const key = await issueKey(server, partner);
    const expected = {
      scheme: 'api-key',
      sub: partner.client.client_id,
      client_id: partner.client.client_id,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      key_id: key.id,
    };
    expect(await verifier.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS)).toEqual(expected);
    expect(await verifier.verifyRequest(request({ authorization: `Bearer ${key.key}` }), API_KEYS)).toEqual(expected);
    // Both headers with the same key are one credential.
    const both = request({ 'x-api-key': key.key!, authorization: `Bearer ${key.key}` });
    expect(await verifier.verifyRequest(both, API_KEYS)).toEqual(expected);
    // The fetch API's Headers, as well as Node's record, whatever the case of the names.
    const headers = new Headers({ 'X-API-Key': key.key! });
    expect(await verifier.verifyRequest({ ...request({}), headers }, API_KEYS)).toEqual(expected);
    expect(await verifier.verifyRequest(request({ 'X-Api-Key': key.key! }), API_KEYS)).toEqual(expected);

    const expiring = await issueKey(server, partner, { expires_in_days: 3 });
    expect(await verifier.verifyRequest(request({ 'x-api-key': expiring.key! }), API_KEYS)).toEqual({
      ...expected,
      key_id: expiring.id,
      exp: Math.floor(Date.parse(expiring.expires_at!) / 1000),
    });
  });

  it('checks the scopes as for an access token: 403 insufficient_scope', async () => {
    const key = await issueKey(server, partner);
    const options = { schemes: ['api-key' as const], scopes: [partner.api.scopes[1]!] };
    expect(await refusal(verifier, { 'x-api-key': key.key! }, options)).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
    const allowed = { schemes: ['api-key' as const], scopes: [partner.api.scopes[0]!] };
    expect(await verifier.verifyRequest(request({ 'x-api-key': key.key! }), allowed)).toMatchObject({
      key_id: key.id,
    });
  });

  it('refuses a malformed key or a wrong checksum with 401 without asking Tollgate', async () => {
    const valid = await issueKey(server, partner);
    const last = valid.key!.at(-1) === 'A' ? 'B' : 'A';
    const before = recording.requests.length;
    for (const presented of [
      valid.key!.slice(0, -1) + last,
      valid.key!.slice(0, -1),
      `${valid.key}A`,
      'tgk_',
      `tgk_${'0'.repeat(49)}`,
      'not-a-key',
      '',
    ]) {
      expect(await refusal(verifier, { 'x-api-key': presented }), presented).toEqual(INVALID_KEY);
      if (presented.startsWith('tgk_') && presented.length > 4)
        expect(await refusal(verifier, { authorization: `Bearer ${presented}` }), presented).toEqual(INVALID_KEY);
    }
    expect(recording.requests.length).toBe(before);
  });

  it("refuses unknown, revoked, expired, rotated-out, a disabled or deleted client's and another API's keys alike", async () => {
    const refused = new Map<string, string>();
    refused.set('unknown', generateApiKey());

    const revoked = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${revoked.id}/revoke`).expect(200);
    refused.set('revoked', revoked.key!);

    const expired = await issueKey(server, partner, { expires_in_days: 1 });
    await setKeyColumns(server, expired.id, { expires_at: PAST });
    refused.set('expired', expired.key!);

    const graced = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${graced.id}/rotate`, { grace_seconds: 600 }).expect(200);
    await setKeyColumns(server, graced.id, { grace_until: PAST });
    refused.set('rotated out past its grace', graced.key!);

    const rotated = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${rotated.id}/rotate`).expect(200);
    refused.set('rotated without grace', rotated.key!);

    const disabled = await createPartner(server);
    const disabledKey = await issueKey(server, disabled);
    await server.admin('patch', `/clients/${disabled.client.client_id}`, { disabled: true }).expect(200);
    const deleted = await createPartner(server);
    const deletedKey = await issueKey(server, deleted);
    expect((await server.admin('delete', `/clients/${deleted.client.client_id}`)).status).toBeLessThan(300);
    // Both partners' APIs are not this verifier's: each gets a verifier for its own API.
    const other = await createPartner(server);
    refused.set('another API', (await issueKey(server, other)).key!);

    const answers: [string, unknown][] = [];
    for (const [name, key] of refused) answers.push([name, await refusal(verifier, { 'x-api-key': key })]);
    for (const [target, key, name] of [
      [disabled, disabledKey, 'client disabled'],
      [deleted, deletedKey, 'client deleted'],
    ] as const) {
      const own = createVerifier({ issuer: server.issuer, audience: target.api.identifier, fetch: recording.fetch });
      answers.push([name, await refusal(own, { authorization: `Bearer ${key.key}` })]);
    }
    for (const [name, answer] of answers) expect(answer, name).toEqual(INVALID_KEY);
  });

  it('rotation with a grace: the old and the new key both work during the grace', async () => {
    const key = await issueKey(server, partner);
    const rotation = await server.admin('post', `/api-keys/${key.id}/rotate`, { grace_seconds: 600 }).expect(200);
    const successor = rotation.body as { key: string; id: string };
    const old = await verifier.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS);
    expect(old).toMatchObject({ scheme: 'api-key', key_id: key.id, exp: expect.any(Number) });
    expect(await verifier.verifyRequest(request({ 'x-api-key': successor.key }), API_KEYS)).toMatchObject({
      key_id: successor.id,
    });
  });

  it('asks Tollgate once per key and cache time, however many requests, concurrent ones included', async () => {
    const key = await issueKey(server, partner);
    const own = newVerifier({ apiKeyCacheSeconds: 5 });
    const before = recording.questions.length;
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, () => own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS)),
    );
    for (let index = 0; index < 20; index += 1) await own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS);
    expect(concurrent.map((caller) => caller.client_id)).toEqual(Array(20).fill(partner.client.client_id));
    const asked = recording.questions.slice(before);
    expect(asked).toHaveLength(1);
    // The question names the key once, this API's audience and consume=1 (the protocol's).
    expect([...asked[0]!.form!.keys()].sort()).toEqual(['audience', 'consume', 'token']);
    expect(asked[0]!.form!.getAll('audience')).toEqual([partner.api.identifier]);
    expect(asked[0]!.form!.get('consume')).toBe('1');
  });

  it('gives each request its own caller object: what a handler adds does not reach the next request', async () => {
    const key = await issueKey(server, partner, { rate_limit: '1000/min' });
    const plain = await issueKey(server, partner);
    for (const presented of [key.key!, plain.key!]) {
      const first = await verifier.verifyRequest(request({ 'x-api-key': presented }), API_KEYS);
      Object.assign(first, { scope: 'everything', tenant: 'added by a handler' });
      const second = await verifier.verifyRequest(request({ 'x-api-key': presented }), API_KEYS);
      expect(second.scope).toBe(partner.api.scopes[0]);
      expect(second).not.toHaveProperty('tenant');
    }
  });

  it('sends every configured audience in one question', async () => {
    const key = await issueKey(server, partner);
    const extra = await createApi(server);
    const own = createVerifier({
      issuer: server.issuer,
      audience: [partner.api.identifier, extra.identifier],
      fetch: recording.fetch,
    });
    const before = recording.questions.length;
    expect(await own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS)).toMatchObject({
      scheme: 'api-key',
      key_id: key.id,
    });
    const [asked] = recording.questions.slice(before);
    expect(asked!.form!.getAll('audience')).toEqual([partner.api.identifier, extra.identifier]);
  });
});

describe('revocation', () => {
  it('a revoked key is refused within 5 seconds with the default cache', async () => {
    const key = await issueKey(server, partner);
    await verifier.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS);
    const revokedAt = Date.now();
    await server.admin('post', `/api-keys/${key.id}/revoke`).expect(200);
    expect((await refusedAt(verifier, key.key!, 5000)) - revokedAt).toBeLessThanOrEqual(5000);
  });

  it('with apiKeyCacheSeconds: 1, an answer is not reused for longer than a second', async () => {
    const own = newVerifier({ apiKeyCacheSeconds: 1 });
    const key = await issueKey(server, partner);
    await own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS);
    const answered = recording.questions.at(-1)!.answeredAt!;
    await server.admin('post', `/api-keys/${key.id}/revoke`).expect(200);
    await refusedAt(own, key.key!, 5000);
    // The question that found the key revoked was asked once the second had passed (the cached
    // answer served until then), and within the contract's 5 s — not a timing figure: a bound.
    const asked = recording.questions.at(-1)!.at;
    expect(asked - answered).toBeGreaterThanOrEqual(1000);
    expect(asked - answered).toBeLessThan(5000);
  });

  it('rejects apiKeyCacheSeconds above 5: the contract refuses a revoked key everywhere within 5 s', () => {
    expect(() => newVerifier({ apiKeyCacheSeconds: 6 })).toThrow(TypeError);
    expect(() => newVerifier({ apiKeyCacheSeconds: -1 })).toThrow(TypeError);
    expect(newVerifier({ apiKeyCacheSeconds: 5 })).toBeDefined();
  });
});

describe('Tollgate unreachable', () => {
  it('answers 503 temporarily_unavailable (never 401, never cached) and recovers', async () => {
    const own = newVerifier({ timeout: 1 });
    const key = await issueKey(server, partner);
    const unknown = generateApiKey();
    try {
      for (const route of ['refused', 'hang'] as const) {
        recording.route = route;
        for (const presented of [key.key!, unknown]) {
          expect(await refusal(own, { 'x-api-key': presented }), `${route}`).toMatchObject({
            status: 503,
            code: 'temporarily_unavailable',
            name: 'IssuerUnavailableError',
            wwwAuthenticate: undefined,
          });
        }
      }
    } finally {
      recording.route = 'tollgate';
    }
    expect(await own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS)).toMatchObject({ key_id: key.id });
    expect(await refusal(own, { 'x-api-key': unknown })).toEqual(INVALID_KEY);
  });

  it('concurrent requests for one key share the failure: one question, not one each', async () => {
    const own = newVerifier({ timeout: 1 });
    const key = await issueKey(server, partner);
    await own.verifyRequest(request({ 'x-api-key': generateApiKey() }), API_KEYS).catch(() => undefined); // discovery
    recording.route = 'refused';
    const before = recording.questions.length;
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () => own.verifyRequest(request({ 'x-api-key': key.key! }), API_KEYS)),
      );
      expect(outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason?.status)).toEqual(Array(5).fill(503));
    } finally {
      recording.route = 'tollgate';
    }
    expect(recording.questions.length - before).toBe(1);
  });
});

describe('schemes', () => {
  it('shares one discovery document between the key set and the API-key client', async () => {
    const own = newVerifier();
    const key = await issueKey(server, partner);
    const token = await accessToken(server, partner);
    const before = recording.requests.length;
    const both = { schemes: ['bearer' as const, 'api-key' as const] };
    expect(await own.verifyRequest(request({ authorization: `Bearer ${token}` }), both)).toMatchObject({
      scheme: 'bearer',
      client_id: partner.client.client_id,
    });
    expect(await own.verifyRequest(request({ 'x-api-key': key.key! }), both)).toMatchObject({ scheme: 'api-key' });
    const discovery = recording.requests.slice(before).filter((entry) => entry.url.includes('/.well-known/'));
    expect(discovery).toHaveLength(1);
  });

  it('by default accepts access tokens only: a tgk_ bearer is 401 invalid_token unasked, X-API-Key is not ours', async () => {
    const key = await issueKey(server, partner);
    const token = await accessToken(server, partner);
    const before = recording.requests.length;
    expect(await refusal(verifier, { authorization: `Bearer ${key.key}` }, {})).toEqual(INVALID_KEY);
    expect(recording.requests.length).toBe(before);
    // Without api-key among the schemes another layer may own X-API-Key: it is neither read nor a conflict.
    expect(await refusal(verifier, { 'x-api-key': key.key! }, {})).toMatchObject({ status: 401, code: undefined });
    expect(
      await verifier.verifyRequest(request({ authorization: `Bearer ${token}`, 'x-api-key': key.key! })),
    ).toMatchObject({ scheme: 'bearer' });
  });

  it('two different credentials are 400 invalid_request; an access token where only keys are accepted is 401', async () => {
    const key = await issueKey(server, partner);
    const token = await accessToken(server, partner);
    const other = generateApiKey();
    for (const authorization of [`Bearer ${token}`, `Bearer ${other}`, 'Basic dXNlcjpwYXNz', `DPoP ${token}`]) {
      expect(await refusal(verifier, { 'x-api-key': key.key!, authorization }), authorization).toMatchObject({
        status: 400,
        code: 'invalid_request',
      });
    }
    expect(await refusal(verifier, { 'x-api-key': key.key!, authorization: 'x' }, API_KEYS)).toMatchObject({
      status: 400,
    });
    expect(await refusal(verifier, { authorization: `Bearer ${token}` }, API_KEYS)).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
    // A plain bearer token where only DPoP is accepted.
    expect(await refusal(verifier, { authorization: `Bearer ${token}` }, { schemes: ['dpop'] })).toMatchObject({
      status: 401,
      code: 'invalid_token',
      wwwAuthenticate: expect.stringMatching(/^DPoP /),
    });
  });

  it('an unknown scheme is a TypeError at the call, before any question to Tollgate', async () => {
    const key = await issueKey(server, partner);
    const before = recording.requests.length;
    for (const schemes of [['basic'], ['api-key', 'basic'], []]) {
      await expect(
        verifier.verifyRequest(request({ 'x-api-key': key.key! }), { schemes: schemes as never }),
        JSON.stringify(schemes),
      ).rejects.toThrow(TypeError);
    }
    expect(recording.requests.length).toBe(before);
  });
});
