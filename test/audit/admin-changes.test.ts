import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey } from '../api-keys/api-key-helpers.js';
import {
  adminActorOf,
  auditLines,
  entryFor,
  expectNoSecret,
  listAudit,
  LOOPBACK,
  whileAuditStandsStill,
  type AuditJson,
} from './audit-helpers.js';

/**
 * Every change through the admin API leaves one audit entry: the admin credential's fingerprint
 * as actor, what it was about as subject, the caller's address, and what changed — never a
 * secret, which the last test looks for in every entry and every audit log line.
 */

let server: TestServer;
let actor: string;
/** Every secret this file made or saw, by name: none may be in the audit log. */
const secrets: Record<string, string> = {};
/** The subjects of this file's entries (test files share a PostgreSQL). */
const subjects = new Set<string>();

beforeAll(async () => {
  server = await startServer();
  actor = adminActorOf(server.adminToken);
  secrets.adminToken = server.adminToken;
});
afterAll(() => server?.close());

function expectAdminEntry(entry: AuditJson, subject: string): void {
  expect(entry.actor).toBe(actor);
  expect(entry.subject).toBe(subject);
  expect(entry.ip).toMatch(LOOPBACK);
  expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
  subjects.add(subject);
}

describe('admin changes', () => {
  it('APIs: created with what they are, updated with each changed field from/to, deleted', async () => {
    const api = await createApi(server, { name: 'Orders' });
    const created = await entryFor(server, 'api.created', api.id);
    expectAdminEntry(created, api.id);
    expect(created.detail).toMatchObject({ identifier: api.identifier, name: 'Orders', scopes: api.scopes });

    expect((await server.admin('patch', `/apis/${api.id}`, { name: 'Orders v2', token_ttl: 900 })).status).toBe(200);
    const updated = await entryFor(server, 'api.updated', api.id);
    expectAdminEntry(updated, api.id);
    expect(updated.detail).toEqual({
      changes: { name: { from: 'Orders', to: 'Orders v2' }, token_ttl: { from: 600, to: 900 } },
    });

    expect((await server.admin('delete', `/apis/${api.id}`)).status).toBe(200);
    expectAdminEntry(await entryFor(server, 'api.deleted', api.id), api.id);
  });

  it('clients: created, updated, disabled and enabled, secret rotated, deleted', async () => {
    const api = await createApi(server);
    const create = await server.admin('post', '/clients', {
      name: 'Billing',
      grant_types: ['client_credentials'],
      scopes: [api.scopes[0]],
    });
    expect(create.status).toBe(201);
    const id = create.body.client_id as string;
    secrets.clientSecret = create.body.client_secret;
    secrets.clientSecretHash = (await server.tollgate.database.knex('clients').where({ id }).first()).secret_hash;

    const created = await entryFor(server, 'client.created', id);
    expectAdminEntry(created, id);
    expect(created.detail).toMatchObject({ client_id: id, name: 'Billing', grant_types: ['client_credentials'] });

    expect((await server.admin('patch', `/clients/${id}`, { name: 'Billing 2' })).status).toBe(200);
    expect((await entryFor(server, 'client.updated', id)).detail).toEqual({
      changes: { name: { from: 'Billing', to: 'Billing 2' } },
    });

    expect((await server.admin('patch', `/clients/${id}`, { disabled: true, scopes: [] })).status).toBe(200);
    const disabled = await entryFor(server, 'client.disabled', id);
    expectAdminEntry(disabled, id);
    expect(disabled.detail).toEqual({
      changes: { disabled: { from: false, to: true }, scopes: { from: [api.scopes[0]], to: [] } },
    });
    expect((await server.admin('patch', `/clients/${id}`, { disabled: false })).status).toBe(200);
    expect((await entryFor(server, 'client.enabled', id)).detail).toEqual({
      changes: { disabled: { from: true, to: false } },
    });
    // The update that flipped `disabled` is not also a client.updated.
    expect((await listAudit(server, 'type=client.updated&limit=1000')).filter((e) => e.subject === id)).toHaveLength(1);

    const rotated = await server.admin('post', `/clients/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    secrets.rotatedSecret = rotated.body.client_secret;
    secrets.rotatedSecretHash = (await server.tollgate.database.knex('clients').where({ id }).first()).secret_hash;
    expectAdminEntry(await entryFor(server, 'client.secret_rotated', id), id);

    expect((await server.admin('delete', `/clients/${id}`)).status).toBe(200);
    expectAdminEntry(await entryFor(server, 'client.deleted', id), id);
  });

  it('API keys: created, rotated, revoked, each naming the key by id and prefix, never the key', async () => {
    const partner = await createPartner(server);
    const issued = await issueKey(server, partner, { name: 'Billing export', rate_limit: '10/s' });
    secrets.apiKey = issued.key!;
    const created = await entryFor(server, 'api_key.created', issued.id);
    expectAdminEntry(created, issued.id);
    expect(created.detail).toEqual({
      client_id: partner.client.client_id,
      name: 'Billing export',
      scopes: [partner.api.scopes[0]],
      prefix: issued.prefix,
      expires_at: null,
      rate_limit: '10/s',
    });

    const rotation = await server.admin('post', `/api-keys/${issued.id}/rotate`, { grace_seconds: 60 });
    expect(rotation.status).toBe(200);
    secrets.rotatedApiKey = rotation.body.key;
    const rotated = await entryFor(server, 'api_key.rotated', issued.id);
    expectAdminEntry(rotated, issued.id);
    expect(rotated.detail).toMatchObject({
      replaced_by: rotation.body.id,
      grace_seconds: 60,
      prefix: rotation.body.prefix,
    });

    expect((await server.admin('post', `/api-keys/${rotation.body.id}/revoke`)).status).toBe(200);
    const revoked = await entryFor(server, 'api_key.revoked', rotation.body.id);
    expectAdminEntry(revoked, rotation.body.id);
    expect(revoked.detail).toMatchObject({ client_id: partner.client.client_id, prefix: rotation.body.prefix });
  });

  it('users: created, updated, password changed, deleted', async () => {
    const username = unique('ada-');
    const firstPassword = `violet-lantern-${unique('')}-moss`;
    const create = await server.admin('post', '/users', { username, password: firstPassword });
    expect(create.status).toBe(201);
    const id = create.body.id as string;
    secrets.firstPassword = firstPassword;
    secrets.firstPasswordHash = (await server.tollgate.database.knex('users').where({ id }).first()).password_hash;
    const created = await entryFor(server, 'user.created', id);
    expectAdminEntry(created, id);
    expect(created.detail).toMatchObject({ id, username });

    expect((await server.admin('patch', `/users/${id}`, { email: 'ada@example.com' })).status).toBe(200);
    expect((await entryFor(server, 'user.updated', id)).detail).toEqual({
      changes: { email: { from: null, to: 'ada@example.com' } },
    });

    const secondPassword = `copper-meadow-${unique('')}-harbour`;
    secrets.secondPassword = secondPassword;
    expect((await server.admin('put', `/users/${id}/password`, { password: secondPassword })).status).toBe(200);
    secrets.secondPasswordHash = (await server.tollgate.database.knex('users').where({ id }).first()).password_hash;
    expectAdminEntry(await entryFor(server, 'user.password_changed', id), id);

    expect((await server.admin('delete', `/users/${id}`)).status).toBe(200);
    expectAdminEntry(await entryFor(server, 'user.deleted', id), id);
  });

  it('a refused change leaves no entry', async () => {
    const name = unique('refused-');
    const refused = await server.admin('post', '/clients', { name, grant_types: ['authorization_code'] });
    expect(refused.status).toBe(400);
    const entries = await listAudit(server, 'type=client.created&limit=1000');
    expect(entries.filter((entry) => entry.detail.name === name)).toEqual([]);
    expect((await server.admin('delete', '/clients/client_nosuchclientatall0000000')).status).toBe(404);
    expect(
      (await listAudit(server, 'type=client.deleted&limit=1000')).filter(
        (entry) => entry.subject === 'client_nosuchclientatall0000000',
      ),
    ).toEqual([]);
  });

  it('each entry is also one pino line with audit: true and the same fields', async () => {
    const api = await createApi(server);
    const entry = await entryFor(server, 'api.created', api.id);
    const lines = auditLines(server).filter((line) => line.type === 'api.created' && line.subject === api.id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ audit: true, actor, subject: api.id, ip: entry.ip, detail: entry.detail });
    // Request log lines are no audit lines.
    expect(auditLines(server).every((line) => typeof line.type === 'string')).toBe(true);
  });

  it('holds no secret: not in any entry, not in any audit log line', async () => {
    expect(Object.keys(secrets).sort()).toEqual(
      [
        'adminToken',
        'apiKey',
        'clientSecret',
        'clientSecretHash',
        'firstPassword',
        'firstPasswordHash',
        'rotatedApiKey',
        'rotatedSecret',
        'rotatedSecretHash',
        'secondPassword',
        'secondPasswordHash',
      ].sort(),
    );
    const entries = (await listAudit(server, 'limit=1000')).filter((entry) => entry.actor === actor);
    expect(entries.length).toBeGreaterThanOrEqual(subjects.size);
    for (const subject of subjects) expect(entries.some((entry) => entry.subject === subject)).toBe(true);
    const stored = JSON.stringify(await server.tollgate.database.knex('audit_log').select());
    expectNoSecret(JSON.stringify(entries), secrets);
    expectNoSecret(stored, secrets);
    expectNoSecret(JSON.stringify(auditLines(server)), secrets);
  });
});

describe('listing', () => {
  it('newest first; by exact type, by prefix, since a moment, at most limit', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const api = await createApi(server);
    await server.admin('patch', `/apis/${api.id}`, { name: 'one' });
    await server.admin('patch', `/apis/${api.id}`, { name: 'two' });
    await server.admin('delete', `/apis/${api.id}`);
    const ours = (entries: AuditJson[]) => entries.filter((entry) => entry.subject === api.id);

    const all = ours(await listAudit(server, 'limit=1000'));
    expect(all.map((entry) => entry.type)).toEqual(['api.deleted', 'api.updated', 'api.updated', 'api.created']);
    for (let i = 1; i < all.length; i += 1) {
      expect(Date.parse(all[i - 1]!.time)).toBeGreaterThanOrEqual(Date.parse(all[i]!.time));
      expect(all[i - 1]!.id).toBeGreaterThan(all[i]!.id);
    }
    expect(Object.keys(all[0]!).sort()).toEqual(['actor', 'detail', 'id', 'ip', 'subject', 'time', 'type']);

    const updates = await listAudit(server, 'type=api.updated&limit=1000');
    expect(updates.every((entry) => entry.type === 'api.updated')).toBe(true);
    expect(ours(updates).map((entry) => entry.detail)).toEqual([
      { changes: { name: { from: 'one', to: 'two' } } },
      { changes: { name: { from: null, to: 'one' } } },
    ]);

    const prefixed = await listAudit(server, 'type=api.*&limit=1000');
    expect(prefixed.every((entry) => entry.type.startsWith('api.'))).toBe(true);
    expect(ours(prefixed)).toEqual(all);
    // A prefix is a whole first word: `api.*` is not `apis.*`, and `ap.*` finds nothing of ours.
    expect(ours(await listAudit(server, 'type=ap.*&limit=1000'))).toEqual([]);
    expect(await listAudit(server, 'type=no_such.type')).toEqual([]);

    expect(ours(await listAudit(server, `since=${encodeURIComponent(before)}&limit=1000`))).toEqual(all);
    // A date alone, and a time with an offset, are ISO 8601 too.
    expect(ours(await listAudit(server, 'since=2000-01-31&limit=1000'))).toEqual(all);
    expect(
      ours(await listAudit(server, `since=${encodeURIComponent('2000-01-31T12:00:00+02:00')}&limit=1000`)),
    ).toEqual(all);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await listAudit(server, `since=${encodeURIComponent(future)}`)).toEqual([]);

    const { read: two, newest } = await whileAuditStandsStill(server, () => listAudit(server, 'limit=2'));
    expect(two).toEqual(newest.slice(0, 2));
    expect((await listAudit(server, 'limit=1000')).length).toBeLessThanOrEqual(1000);
  });

  it('answers 100 entries unless told otherwise', async () => {
    const db = server.tollgate.database.knex;
    const subject = unique('bulk-');
    await db('audit_log').insert(
      Array.from({ length: 105 }, () => ({ type: 'api.updated', actor: 'test', subject, detail: '{}' })),
    );
    expect(await listAudit(server)).toHaveLength(100);
    expect((await listAudit(server, 'limit=1000')).filter((entry) => entry.subject === subject)).toHaveLength(105);
  });

  it.each([
    ['since=yesterday', 'since'],
    ['since=2026-13-45T00:00:00Z', 'since'],
    ['since=2026-01-31T12:00:00', 'since'],
    ['since=2026-02-30', 'since'],
    ['since=2026-01-01T24:00:00Z', 'since'],
    ['since=', 'since'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['type=Client.created', 'type'],
    ['type=client', 'type'],
    ['type=client.*.x', 'type'],
    ['type=%25', 'type'],
    ['type=client.created&type=client.deleted', 'type'],
    ['order=asc', 'order'],
  ])('refuses %s with a 400 naming the parameter', async (query, name) => {
    const response = await server.admin('get', `/audit?${query}`);
    expect(response.status, response.text).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain(name);
  });

  it('needs the admin token', async () => {
    const response = await fetch(`${server.adminUrl}/audit`);
    expect(response.status).toBe(401);
  });
});

describe('retention', () => {
  it('the sweeper removes entries older than AUDIT_RETENTION_DAYS (default 90) and keeps the others', async () => {
    const db = server.tollgate.database.knex;
    const day = 86_400_000;
    const old = unique('old-');
    const recent = unique('recent-');
    await db('audit_log').insert([
      { time: new Date(Date.now() - 91 * day), type: 'api.updated', actor: 'test', subject: old, detail: '{}' },
      { time: new Date(Date.now() - 89 * day), type: 'api.updated', actor: 'test', subject: recent, detail: '{}' },
    ]);
    await server.tollgate.sweepExpired();
    const left = await db('audit_log').whereIn('subject', [old, recent]).pluck('subject');
    expect(left).toEqual([recent]);
  });

  it('follows AUDIT_RETENTION_DAYS', async () => {
    const short = await startServer({ env: { AUDIT_RETENTION_DAYS: '7' } });
    try {
      const db = short.tollgate.database.knex;
      const old = unique('week-old-');
      const recent = unique('days-old-');
      await db('audit_log').insert([
        { time: new Date(Date.now() - 8 * 86_400_000), type: 'api.updated', actor: 'test', subject: old, detail: '{}' },
        {
          time: new Date(Date.now() - 6 * 86_400_000),
          type: 'api.updated',
          actor: 'test',
          subject: recent,
          detail: '{}',
        },
      ]);
      await short.tollgate.sweepExpired();
      expect(await db('audit_log').whereIn('subject', [old, recent]).pluck('subject')).toEqual([recent]);
    } finally {
      await short.close();
    }
  });
});

describe('when the entry cannot be stored', () => {
  it('the change stands and is answered as usual; the pino line is there and the failure is logged, without secrets', async () => {
    const db = server.tollgate.database.knex;
    // A real database refusal, for this file's entries only (test files may share the database).
    const marker = unique('audit-refused-');
    const constraint = unique('refuse_').toLowerCase();
    // DDL takes no bind parameters; the marker is [a-z0-9-] only.
    await db.raw(
      `ALTER TABLE audit_log ADD CONSTRAINT ${constraint} CHECK (detail->>'name' IS DISTINCT FROM '${marker}')`,
    );
    try {
      const create = await server.admin('post', '/clients', { name: marker, grant_types: ['client_credentials'] });
      expect(create.status, create.text).toBe(201);
      expect(create.body.client_secret).toEqual(expect.any(String));
      const id = create.body.client_id as string;
      expect((await server.admin('get', `/clients/${id}`)).status).toBe(200);
      expect((await listAudit(server, 'type=client.created&limit=1000')).some((e) => e.subject === id)).toBe(false);

      expect(auditLines(server).filter((line) => line.subject === id)).toHaveLength(1);
      const failures = server.logs
        .flatMap((chunk) => chunk.split('\n'))
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'audit entry not stored');
      const ours = failures.filter((line) => (line.audit_entry as { subject?: string }).subject === id);
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatchObject({ level: 50, audit_entry: { type: 'client.created', actor } });
      expect(ours[0]).not.toHaveProperty('audit');
      expect(JSON.stringify(ours[0])).not.toContain(create.body.client_secret);
      expect(JSON.stringify(ours[0])).not.toMatch(/\n\s+at /);
    } finally {
      await db.raw(`ALTER TABLE audit_log DROP CONSTRAINT ${constraint}`);
    }
  });
});
