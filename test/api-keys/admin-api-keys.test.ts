import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectJsonError } from '../admin/admin-helpers.js';
import { createPartner, issueKey, type ApiKeyJson, type Partner } from './api-key-helpers.js';

let server: TestServer;
let partner: Partner;

beforeAll(async () => {
  server = await startServer();
  partner = await createPartner(server);
});

afterAll(() => server?.close());

describe('issuing API keys (admin API)', () => {
  it('shows the key once, on creation, with the contract fields; never again', async () => {
    const created = await server.admin('post', '/api-keys', {
      client_id: partner.client.client_id,
      scopes: partner.api.scopes[0],
      name: 'Acme production',
      expires_in_days: 30,
      rate_limit: '100 / min',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const key = created.body as ApiKeyJson;
    expect(Object.keys(key).slice(0, 9)).toEqual([
      'id',
      'key',
      'client_id',
      'name',
      'scopes',
      'expires_at',
      'rate_limit',
      'created_at',
      'last_used_at',
    ]);
    expect(key).toMatchObject({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^tgk_[0-9A-Za-z]{49}$/),
      client_id: partner.client.client_id,
      name: 'Acme production',
      scopes: [partner.api.scopes[0]],
      rate_limit: '100/min',
      last_used_at: null,
      audience: [partner.api.identifier],
      status: 'active',
      revoked_at: null,
    });
    expect(key.prefix).toBe(key.key!.slice(0, 12));
    const days = (Date.parse(key.expires_at!) - Date.parse(key.created_at)) / 86_400_000;
    expect(days).toBeCloseTo(30, 2);

    const shown = await server.admin('get', `/api-keys/${key.id}`);
    const listed = await server.admin('get', '/api-keys');
    const ofClient = await server.admin('get', `/clients/${partner.client.client_id}/api-keys`);
    for (const response of [shown, listed, ofClient]) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(key.key);
      expect(response.text).not.toContain(key.key!.slice(12));
    }
    const { key: _shownOnce, ...rest } = key;
    expect(shown.body).toEqual(rest);
    expect((listed.body as ApiKeyJson[]).map((k) => k.id)).toContain(key.id);
    expect((ofClient.body as ApiKeyJson[]).map((k) => k.id)).toEqual([key.id]);
  });

  it('keeps no key in the database: no column of api_keys holds it or any long part of it', async () => {
    const key = await issueKey(server, partner);
    const rows = await server.tollgate.database.knex('api_keys').select();
    const dump = JSON.stringify(rows);
    expect(dump).toContain(key.id);
    expect(dump).not.toContain(key.key);
    // Nothing beyond the recognisable prefix: every 13-character window of the key is absent.
    const secret = key.key!;
    for (let start = 5; start + 13 <= secret.length; start += 1)
      expect(dump).not.toContain(secret.slice(start, start + 13));
  });

  it('lists only the keys of the client asked for', async () => {
    const other = await createPartner(server);
    const mine = await issueKey(server, other);
    const listed = await server.admin('get', `/clients/${other.client.client_id}/api-keys`);
    expect((listed.body as ApiKeyJson[]).map((k) => k.id)).toEqual([mine.id]);
    expectJsonError(await server.admin('get', '/clients/client_nope/api-keys'), 404, 'not_found');
  });

  it('refuses scopes outside the client with a clear 400, and every other bad field', async () => {
    const otherApi = await createApi(server);
    const refused = await server.admin('post', '/api-keys', {
      client_id: partner.client.client_id,
      scopes: [partner.api.scopes[0], otherApi.scopes[0]],
    });
    expectJsonError(refused, 400, 'invalid_request');
    expect(refused.body.error_description).toBe(
      `client "${partner.client.client_id}" is not allowed scope "${otherApi.scopes[0]}": a key carries only scopes its client is allowed (tollgate clients update ${partner.client.client_id} --scopes …)`,
    );
    // A scope the client has but is not written on this API either.
    const writeScope = await server.admin('post', '/api-keys', {
      client_id: partner.client.client_id,
      scopes: [partner.api.scopes[1]],
    });
    expectJsonError(writeScope, 400, 'invalid_request');
    expect(writeScope.body.error_description).toMatch(/is not allowed scope/);

    const cases: [Record<string, unknown>, RegExp][] = [
      [{ scopes: [partner.api.scopes[0]] }, /^client_id is required/],
      [{ client_id: partner.client.client_id }, /^scopes is required/],
      [{ client_id: partner.client.client_id, scopes: [] }, /at least one scope/],
      [{ client_id: 'client_nope', scopes: [partner.api.scopes[0]] }, /no client with id "client_nope"/],
      [{ client_id: partner.client.client_id, scopes: ['openid'] }, /is for tokens issued to users/],
      [{ client_id: partner.client.client_id, scopes: [partner.api.scopes[0]], expires_in_days: 0 }, /expires_in_days/],
      [{ client_id: partner.client.client_id, scopes: [partner.api.scopes[0]], expires_in_days: 1.5 }, /whole number/],
      [{ client_id: partner.client.client_id, scopes: [partner.api.scopes[0]], rate_limit: 'lots' }, /not a rate/],
      [{ client_id: partner.client.client_id, scopes: [partner.api.scopes[0]], key: 'tgk_mine' }, /unknown field/],
    ];
    for (const [body, message] of cases) {
      const response = await server.admin('post', '/api-keys', body);
      expectJsonError(response, 400, 'invalid_request');
      expect(response.body.error_description, JSON.stringify(body)).toMatch(message);
    }
  });

  it('takes the audience from the scopes: a key whose scopes span two APIs is for both', async () => {
    const first = await createApi(server);
    const second = await createApi(server);
    const client = await createServiceClient(server, [first.scopes[0]!, second.scopes[0]!]);
    const key = await issueKey(server, { api: first, client }, { scopes: [first.scopes[0], second.scopes[0]] });
    expect(key.audience.sort()).toEqual([first.identifier, second.identifier].sort());
  });

  it('revokes (idempotently) and rotates, with 404 and 409 where they do not apply', async () => {
    const key = await issueKey(server, partner, { name: unique('rot-'), rate_limit: '5/s' });
    const rotated = await server.admin('post', `/api-keys/${key.id}/rotate`, { grace_seconds: 3600 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const successor = rotated.body as ApiKeyJson;
    expect(successor.key).toMatch(/^tgk_/);
    expect(successor.key).not.toBe(key.key);
    expect(successor).toMatchObject({
      client_id: key.client_id,
      name: key.name,
      scopes: key.scopes,
      rate_limit: '5/s',
    });
    const old = (await server.admin('get', `/api-keys/${key.id}`)).body as ApiKeyJson;
    expect(old).toMatchObject({ status: 'rotating', replaced_by: successor.id });
    expect(Date.parse(old.grace_until!) - Date.now()).toBeGreaterThan(3500_000);

    const again = await server.admin('post', `/api-keys/${key.id}/rotate`, {});
    expectJsonError(again, 409, 'conflict');
    expect(again.body.error_description).toContain(successor.id);

    const revoked = await server.admin('post', `/api-keys/${successor.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: successor.id, status: 'revoked', revoked_at: expect.any(String) });
    expect(revoked.text).not.toContain(successor.key);
    const twice = await server.admin('post', `/api-keys/${successor.id}/revoke`);
    expect(twice.body.revoked_at).toBe(revoked.body.revoked_at);
    expectJsonError(await server.admin('post', `/api-keys/${successor.id}/rotate`, {}), 409, 'conflict');

    expectJsonError(await server.admin('get', '/api-keys/key_nope'), 404, 'not_found');
    expectJsonError(await server.admin('post', '/api-keys/key_nope/revoke'), 404, 'not_found');
    expectJsonError(await server.admin('post', '/api-keys/key_nope/rotate', {}), 404, 'not_found');
    const badGrace = await server.admin('post', `/api-keys/${key.id}/rotate`, { grace_seconds: -1 });
    expectJsonError(badGrace, 400, 'invalid_request');
  });

  it('a rotation without grace ends the old key at once', async () => {
    const key = await issueKey(server, partner);
    const rotated = await server.admin('post', `/api-keys/${key.id}/rotate`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const old = (await server.admin('get', `/api-keys/${key.id}`)).body as ApiKeyJson;
    expect(old.status).toBe('rotated');
  });

  it('deleting the client deletes its keys', async () => {
    const doomed = await createPartner(server);
    const key = await issueKey(server, doomed);
    expect((await server.admin('delete', `/clients/${doomed.client.client_id}`)).status).toBe(200);
    expectJsonError(await server.admin('get', `/api-keys/${key.id}`), 404, 'not_found');
  });
});
