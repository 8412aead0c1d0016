import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedPostgres } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { adminActorOf, auditLines, listAudit, LOOPBACK } from './audit-helpers.js';

/**
 * Key rotation and revocation in the audit log: by the admin API (actor: the admin credential)
 * or by the KEY_ROTATION_DAYS schedule (actor: system). These change the ring every other test
 * relies on, so on PostgreSQL they get a database of their own.
 */

let server: TestServer;
let database: Awaited<ReturnType<typeof isolatedPostgres>>;

beforeAll(async () => {
  database = await isolatedPostgres();
  server = await startServer({ env: database ? { DATABASE_URL: database.url } : {} });
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

const currentKids = async () =>
  ((await server.admin('get', '/keys')).body as { kid: string; state: string }[])
    .filter((key) => key.state === 'current')
    .map((key) => key.kid)
    .sort();

describe('key events', () => {
  it('a rotation asked for through the admin API: the admin credential, the kids now current and those retired', async () => {
    const before = await currentKids();
    const rotated = await server.admin('post', '/keys/rotate', { force: true });
    expect(rotated.status).toBe(200);
    const [entry, ...rest] = await listAudit(server, 'type=key.rotated');
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ actor: adminActorOf(server.adminToken), subject: null });
    expect(entry!.ip).toMatch(LOOPBACK);
    expect(entry!.detail).toMatchObject({ scheduled: false, force: true });
    expect([...(entry!.detail.retired as string[])].sort()).toEqual(before);
    expect([...(entry!.detail.current as string[])].sort()).toEqual(await currentKids());
  });

  it('a rotation refused as too early leaves no entry', async () => {
    const count = (await listAudit(server, 'type=key.*')).length;
    expect((await server.admin('post', '/keys/rotate', {})).status).toBe(409);
    expect(await listAudit(server, 'type=key.*')).toHaveLength(count);
  });

  it('a scheduled rotation (KEY_ROTATION_DAYS) is the system, with no address', async () => {
    const db = server.tollgate.database.knex;
    await db('signing_keys')
      .where({ state: 'current' })
      .update({ activated_at: new Date(Date.now() - 31 * 86_400_000) });
    await db('signing_keys')
      .where({ state: 'next' })
      .update({ published_at: new Date(Date.now() - 3600 * 1000) });
    const before = await currentKids();
    expect(await server.tollgate.maintainKeys()).toBe(true);
    const [entry] = await listAudit(server, 'type=key.rotated&limit=1');
    expect(entry).toMatchObject({ actor: 'system', subject: null, ip: null });
    expect(entry!.detail).toMatchObject({ scheduled: true });
    expect([...(entry!.detail.retired as string[])].sort()).toEqual(before);
    expect([...(entry!.detail.current as string[])].sort()).toEqual(await currentKids());
    const line = auditLines(server).find(
      (candidate) => candidate.type === 'key.rotated' && candidate.actor === 'system',
    );
    expect(line).toMatchObject({ audit: true, detail: entry!.detail });
  });

  it('a revoked key: the kid asked for and every kid withdrawn with it', async () => {
    const [kid] = await currentKids();
    const revoked = await server.admin('post', `/keys/${kid}/revoke`);
    expect(revoked.status).toBe(200);
    const [entry] = await listAudit(server, 'type=key.revoked');
    expect(entry).toMatchObject({
      actor: adminActorOf(server.adminToken),
      subject: kid,
      detail: { revoked: revoked.body.revoked },
    });
    expect(await listAudit(server, 'type=key.revoked')).toHaveLength(1);
    // An unknown kid is refused and recorded nowhere.
    expect((await server.admin('post', '/keys/no-such-kid/revoke')).status).toBe(404);
    expect(await listAudit(server, 'type=key.revoked')).toHaveLength(1);
  });

  it('no private key material in any entry', async () => {
    const stored = JSON.stringify(await server.tollgate.database.knex('audit_log').select());
    const sealed = await server.tollgate.database.knex('signing_keys').pluck('private_jwk_sealed');
    for (const seal of sealed) expect(stored).not.toContain(String(seal).slice(0, 40));
    expect(stored).not.toMatch(/"d"\s*:/);
  });
});
