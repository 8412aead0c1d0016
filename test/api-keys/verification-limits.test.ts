import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../helpers/fixtures.js';
import { expectTooManyRequests, randomIp, rateLimited } from '../helpers/rate-limits.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, verificationPath, type Partner } from './api-key-helpers.js';

// What the verification endpoint does beyond yes or no: it grants the asking API points of a
// key's rate limit (the API's library spends them), answers for several audiences at once, and
// stops answering an address whose questions keep failing.

/** Well-formed keys (right shape and checksum) that no question will ever find valid: revoked at once. */
let revokedKeys: string[] = [];

/** Asks with a raw form body (so parameters can repeat), from `ip`; expects no particular status. */
function ask(server: TestServer, path: string, form: Record<string, string | string[]>, ip = randomIp()) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form))
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  return server.public().post(path).set('X-Forwarded-For', ip).type('form').send(body.toString());
}

const FAILURE_LIMIT = 4;
let server: TestServer;
let partner: Partner;
let path: string;

beforeAll(async () => {
  server = await startServer({
    env: { TRUST_PROXY: 'true', API_KEY_VERIFICATION_FAILURE_LIMIT: `${FAILURE_LIMIT}/h` },
  });
  partner = await createPartner(server);
  path = await verificationPath(server);
  revokedKeys = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const key = await issueKey(server, partner);
      expect((await server.admin('post', `/api-keys/${key.id}/revoke`)).status).toBe(200);
      return key.key!;
    }),
  );
});

afterAll(() => server?.close());

describe("a key's rate limit, granted to the asking API", () => {
  it('grants 2 % of the limit per question, with what is left and when the window ends', async () => {
    const key = await issueKey(server, partner, { rate_limit: '100/min' });
    const first = (await ask(server, path, { token: key.key!, audience: partner.api.identifier })).body;
    expect(first).toMatchObject({ active: true, key_id: key.id, rate_limit: '100/min', rate_limit_granted: 2 });
    expect(first.rate_limit_remaining).toBe(98);
    expect(first.rate_limit_reset).toBeGreaterThanOrEqual(1);
    expect(first.rate_limit_reset).toBeLessThanOrEqual(60);
    const second = (await ask(server, path, { token: key.key!, audience: partner.api.identifier })).body;
    expect(second).toMatchObject({ rate_limit_granted: 2, rate_limit_remaining: 96 });
  });

  it('consume=0 only verifies: no grant, and the count does not move', async () => {
    const key = await issueKey(server, partner, { rate_limit: '100/min' });
    const question = { token: key.key!, audience: partner.api.identifier };
    const verified = (await ask(server, path, { ...question, consume: '0' })).body;
    expect(verified).toMatchObject({ active: true, rate_limit: '100/min' });
    expect(verified).not.toHaveProperty('rate_limit_granted');
    expect((await ask(server, path, { ...question, consume: '1' })).body).toMatchObject({ rate_limit_remaining: 98 });
    const json = await server
      .public()
      .post(path)
      .send({ ...question, consume: 0 });
    expect(json.body).toMatchObject({ active: true });
    expect(json.body).not.toHaveProperty('rate_limit_granted');
  });

  it('grants 0 once the window is spent, still active, and counts the refusal', async () => {
    const key = await issueKey(server, partner, { rate_limit: '3/h' });
    const question = { token: key.key!, audience: partner.api.identifier };
    const before = await rateLimited(server, 'api_key');
    const grants = [];
    for (let i = 0; i < 5; i++) grants.push((await ask(server, path, question)).body);
    expect(grants.map((answer) => answer.rate_limit_granted)).toEqual([1, 1, 1, 0, 0]);
    expect(grants.map((answer) => answer.rate_limit_remaining)).toEqual([2, 1, 0, 0, 0]);
    expect(grants.every((answer) => answer.active === true)).toBe(true);
    expect(grants[4]!.rate_limit_reset).toBeGreaterThan(3000);
    expect(await rateLimited(server, 'api_key')).toBe(before + 2);
  });

  it('a key without a limit gets no rate-limit fields; the limit is per key, not per client', async () => {
    const unlimited = await issueKey(server, partner);
    const answer = (await ask(server, path, { token: unlimited.key!, audience: partner.api.identifier })).body;
    expect(answer).toMatchObject({ active: true });
    for (const field of ['rate_limit', 'rate_limit_granted', 'rate_limit_remaining', 'rate_limit_reset'])
      expect(answer).not.toHaveProperty(field);
    const [one, two] = [
      await issueKey(server, partner, { rate_limit: '1/h' }),
      await issueKey(server, partner, { rate_limit: '1/h' }),
    ];
    for (const key of [one, two])
      expect((await ask(server, path, { token: key.key!, audience: partner.api.identifier })).body).toMatchObject({
        rate_limit_granted: 1,
      });
  });
});

describe('several audiences in one question', () => {
  it('answers for the asked audiences the key reaches, with only their scopes', async () => {
    const other = await createApi(server);
    const key = await issueKey(server, partner);
    const both = (await ask(server, path, { token: key.key!, audience: [other.identifier, partner.api.identifier] }))
      .body;
    expect(both).toMatchObject({ active: true, aud: [partner.api.identifier], scope: partner.api.scopes[0] });
    const json = await server
      .public()
      .post(path)
      .send({ token: key.key!, audience: [other.identifier, partner.api.identifier] });
    expect(json.body).toEqual(both);
    expect((await ask(server, path, { token: key.key!, audience: [other.identifier] })).body).toEqual({
      active: false,
    });
  });

  it.each([
    ['21 audiences', { audience: Array.from({ length: 21 }, (_, i) => `https://api${i}.example.com`) }, 'audience'],
    ['an empty audience among others', { audience: ['https://a.example.com', ''] }, 'audience'],
    ['consume=2', { audience: 'https://a.example.com', consume: '2' }, 'consume'],
    ['consume twice', { audience: 'https://a.example.com', consume: ['1', '1'] }, 'consume'],
  ])('refuses %s with 400 invalid_request', async (_name, form, named) => {
    const response = await ask(server, path, { token: revokedKeys[0]!, ...form });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain(named);
  });
});

describe('an address whose questions keep failing', () => {
  it(`gets 429 after ${FAILURE_LIMIT} well-formed keys answered inactive, for any question, until the window ends`, async () => {
    const ip = randomIp();
    const valid = await issueKey(server, partner);
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const response = await ask(
        server,
        path,
        { token: revokedKeys[i % revokedKeys.length]!, audience: partner.api.identifier },
        ip,
      );
      expect(response.body).toEqual({ active: false });
    }
    const before = await rateLimited(server, 'api_key_verification_failures');
    const refused = await ask(server, path, { token: valid.key!, audience: partner.api.identifier }, ip);
    expectTooManyRequests(refused, 3600);
    expect(refused.text).not.toContain(valid.key!);
    expect(await rateLimited(server, 'api_key_verification_failures')).toBe(before + 1);
    // Another address is not concerned.
    expect((await ask(server, path, { token: valid.key!, audience: partner.api.identifier })).body).toMatchObject({
      active: true,
    });
  });

  it('does not count malformed or wrong-checksum keys (no look-up), nor valid ones', async () => {
    const ip = randomIp();
    const valid = await issueKey(server, partner);
    const mistyped = valid.key!.slice(0, -1) + (valid.key!.endsWith('A') ? 'B' : 'A');
    for (const token of ['', 'tgk_short', mistyped, 'x'.repeat(60), mistyped, mistyped, mistyped])
      expect((await ask(server, path, { token, audience: partner.api.identifier }, ip)).body).toEqual({
        active: false,
      });
    for (let i = 0; i < FAILURE_LIMIT + 2; i++)
      expect((await ask(server, path, { token: valid.key!, audience: partner.api.identifier }, ip)).status).toBe(200);
  });
});
