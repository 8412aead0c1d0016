import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '@tollgate/resource-server/api-key-format';
import { createApi, createServiceClient } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, verificationPath, verify, type Partner } from './api-key-helpers.js';

let server: TestServer;
let tenant: TestServer;
let partner: Partner;

beforeAll(async () => {
  [server, tenant] = await Promise.all([startServer(), startServer({ issuerPath: '/tenant-a' })]);
  partner = await createPartner(server);
});

afterAll(() => Promise.all([server?.close(), tenant?.close()]));

/** Sets columns of a key's row directly: a time in the past stands for a time that has come. */
async function setColumns(id: string, columns: Record<string, unknown>): Promise<void> {
  await server.tollgate.database.knex('api_keys').where({ id }).update(columns);
}

const PAST = new Date(Date.now() - 1000);

describe('discovery', () => {
  it('names api_key_verification_endpoint under the issuer, in both discovery documents', async () => {
    for (const [target, documents] of [
      [server, ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']],
      [tenant, ['/tenant-a/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant-a']],
    ] as const) {
      for (const document of documents) {
        const metadata = (await target.public().get(document)).body as Record<string, unknown>;
        expect(metadata.api_key_verification_endpoint, document).toBe(`${target.issuer}/api-keys/verify`);
        // The provider's own defaults are still there beside it.
        expect(metadata.claim_types_supported).toEqual(['normal']);
      }
    }
  });
});

describe('POST {issuer}/api-keys/verify', () => {
  it('answers active with the client, scopes, audience and key id for the API the key is for', async () => {
    const key = await issueKey(server, partner, { expires_in_days: 10, rate_limit: '60/min' });
    const answer = await verify(server, key.key!, partner.api.identifier);
    expect(answer).toEqual({
      active: true,
      client_id: partner.client.client_id,
      sub: partner.client.client_id,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      key_id: key.id,
      token_type: 'api_key',
      exp: Math.floor(Date.parse(key.expires_at!) / 1000),
      rate_limit: '60/min',
      rate_limit_granted: 1,
      rate_limit_remaining: 59,
      rate_limit_reset: expect.any(Number),
    });
  });

  it('takes JSON as well as a form, and works under an issuer path', async () => {
    const key = await issueKey(server, partner);
    const json = await server
      .public()
      .post('/api-keys/verify')
      .send({ token: key.key, audience: partner.api.identifier });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ active: true, key_id: key.id });

    const tenantPartner = await createPartner(tenant);
    const tenantKey = await issueKey(tenant, tenantPartner);
    expect(await verificationPath(tenant)).toBe('/tenant-a/api-keys/verify');
    expect(await verify(tenant, tenantKey.key!, tenantPartner.api.identifier)).toMatchObject({ active: true });
  });

  it("answers inactive for another API's audience, and gives each API only its own scopes", async () => {
    const key = await issueKey(server, partner);
    const otherApi = await createApi(server);
    expect(await verify(server, key.key!, otherApi.identifier)).toEqual({ active: false });
    expect(await verify(server, key.key!, 'https://unregistered.example.com')).toEqual({ active: false });

    const first = await createApi(server);
    const second = await createApi(server);
    const client = await createServiceClient(server, [first.scopes[0]!, second.scopes[0]!]);
    const both = await issueKey(server, { api: first, client }, { scopes: [first.scopes[0], second.scopes[0]] });
    expect(await verify(server, both.key!, first.identifier)).toMatchObject({
      active: true,
      scope: first.scopes[0],
      aud: first.identifier,
    });
    expect(await verify(server, both.key!, second.identifier)).toMatchObject({
      active: true,
      scope: second.scopes[0],
      aud: second.identifier,
    });
  });

  it('turns inactive on revocation', async () => {
    const key = await issueKey(server, partner);
    expect(await verify(server, key.key!, partner.api.identifier)).toMatchObject({ active: true });
    await server.admin('post', `/api-keys/${key.id}/revoke`);
    expect(await verify(server, key.key!, partner.api.identifier)).toEqual({ active: false });
  });

  it('turns inactive on expiry', async () => {
    const key = await issueKey(server, partner, { expires_in_days: 1 });
    expect(await verify(server, key.key!, partner.api.identifier)).toMatchObject({ active: true });
    await setColumns(key.id, { expires_at: PAST });
    expect(await verify(server, key.key!, partner.api.identifier)).toEqual({ active: false });
  });

  it('rotation: the old key works during its grace (exp says until when), then stops; the new one works', async () => {
    const key = await issueKey(server, partner);
    const successor = (await server.admin('post', `/api-keys/${key.id}/rotate`, { grace_seconds: 600 })).body as {
      key: string;
      id: string;
    };
    const during = await verify(server, key.key!, partner.api.identifier);
    expect(during).toMatchObject({ active: true, key_id: key.id });
    expect((during.exp as number) * 1000 - Date.now()).toBeGreaterThan(590_000);
    expect(await verify(server, successor.key, partner.api.identifier)).toMatchObject({
      active: true,
      key_id: successor.id,
    });
    await setColumns(key.id, { grace_until: PAST });
    expect(await verify(server, key.key!, partner.api.identifier)).toEqual({ active: false });
    expect(await verify(server, successor.key, partner.api.identifier)).toMatchObject({ active: true });

    const immediate = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${immediate.id}/rotate`);
    expect(await verify(server, immediate.key!, partner.api.identifier)).toEqual({ active: false });
  });

  it('turns inactive when the client is disabled (and active again when enabled), or deleted', async () => {
    const own = await createPartner(server);
    const key = await issueKey(server, own);
    expect(await verify(server, key.key!, own.api.identifier)).toMatchObject({ active: true });
    await server.admin('patch', `/clients/${own.client.client_id}`, { disabled: true });
    expect(await verify(server, key.key!, own.api.identifier)).toEqual({ active: false });
    await server.admin('patch', `/clients/${own.client.client_id}`, { disabled: false });
    expect(await verify(server, key.key!, own.api.identifier)).toMatchObject({ active: true });
    await server.admin('delete', `/clients/${own.client.client_id}`);
    expect(await verify(server, key.key!, own.api.identifier)).toEqual({ active: false });
  });

  it('turns inactive when the client is no longer allowed the scopes', async () => {
    const own = await createPartner(server);
    const key = await issueKey(server, own);
    await server.admin('patch', `/clients/${own.client.client_id}`, { scopes: [own.api.scopes[1]] });
    expect(await verify(server, key.key!, own.api.identifier)).toEqual({ active: false });
  });

  it('answers malformed, truncated, wrong-checksum, unknown, revoked and expired keys identically', async () => {
    const revoked = await issueKey(server, partner);
    await server.admin('post', `/api-keys/${revoked.id}/revoke`);
    const expired = await issueKey(server, partner, { expires_in_days: 1 });
    await setColumns(expired.id, { expires_at: PAST });
    const valid = await issueKey(server, partner);
    const last = valid.key!.at(-1) === 'A' ? 'B' : 'A';
    const presented = {
      malformed: 'not a key at all',
      empty: '',
      truncated: valid.key!.slice(0, -1),
      extended: `${valid.key}A`,
      'wrong checksum': valid.key!.slice(0, -1) + last,
      'other prefix': `tgs_${valid.key!.slice(4)}`,
      unknown: generateApiKey(),
      revoked: revoked.key!,
      expired: expired.key!,
    };
    const path = await verificationPath(server);
    const answers = new Map<string, string>();
    for (const [name, token] of Object.entries(presented)) {
      const response = await server.public().post(path).type('form').send({ token, audience: partner.api.identifier });
      const headers = Object.entries(response.headers)
        .filter(([header]) => !['date', 'content-length', 'x-request-id'].includes(header))
        .sort();
      answers.set(name, JSON.stringify({ status: response.status, headers, body: response.text }));
    }
    const [first] = answers.values();
    expect(JSON.parse(first!).body).toBe('{"active":false}');
    for (const [name, answer] of answers) expect(answer, name).toBe(first);
  });

  it('refuses a question without its parameters with 400 invalid_request, other methods with 405', async () => {
    const path = await verificationPath(server);
    const key = await issueKey(server, partner);
    const questions: [string, object | string, string][] = [
      ['form', { audience: partner.api.identifier }, 'token'],
      ['form', { token: key.key }, 'audience'],
      ['form', `token=${key.key}&token=${key.key}&audience=${encodeURIComponent(partner.api.identifier)}`, 'token'],
      ['json', { token: 42, audience: partner.api.identifier }, 'token'],
      ['json', '[1]', 'JSON object'],
      ['json', '{"token":', 'JSON object'],
      ['text', 'hello', 'application/json'],
    ];
    for (const [type, body, named] of questions) {
      const response = await server.public().post(path).type(type).send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toContain(named);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.text).not.toContain(key.key);
    }
    const get = await server.public().get(`${path}?token=${key.key}&audience=x`);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('never writes a key to the log, whatever happened to it', async () => {
    const key = await issueKey(server, partner);
    await verify(server, key.key!, partner.api.identifier);
    await server.admin('post', `/api-keys/${key.id}/revoke`);
    await verify(server, key.key!, partner.api.identifier);
    await server.public().get(`/api-keys/verify?token=${key.key}`);
    const logs = server.logs.join('');
    expect(logs).toContain('/api-keys/verify');
    expect(logs).not.toContain(key.key!.slice(12));
  });
});
