import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_GRACE_SECONDS } from '../../src/artefacts/payload-store.js';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('expired artefacts are swept', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());

  it('deletes rows expired longer than the grace period, in batches, and keeps the rest', async () => {
    const db = server.tollgate.database.knex;
    const kind = unique('SweepTest');
    const longExpired = new Date(Date.now() - (SWEEP_GRACE_SECONDS + 60) * 1000);
    const justExpired = new Date(Date.now() - 60 * 1000);
    const rows = (count: number, expiresAt: Date | null, tag: string) =>
      Array.from({ length: count }, (_, i) => ({
        kind,
        id: `${tag}-${i}`,
        payload: JSON.stringify({ tag }),
        expires_at: expiresAt,
      }));
    await db('oidc_payloads').insert([
      ...rows(1200, longExpired, 'old'),
      ...rows(3, justExpired, 'grace'),
      ...rows(3, new Date(Date.now() + 3600_000), 'live'),
      ...rows(2, null, 'forever'),
    ]);
    const deleted = await server.tollgate.sweepExpired();
    expect(deleted).toBeGreaterThanOrEqual(1200);
    const left = await db('oidc_payloads').where({ kind }).select('id');
    expect(left.map((row: { id: string }) => row.id.split('-')[0]).sort()).toEqual([
      'forever',
      'forever',
      'grace',
      'grace',
      'grace',
      'live',
      'live',
      'live',
    ]);
  });

  it('forgets throttle keys with no attempt inside the window', async () => {
    const db = server.tollgate.database.knex;
    const [old, recent, released] = [unique('old-'), unique('recent-'), unique('released-')];
    const hourAgo = new Date(Date.now() - 3600_000);
    await db('attempt_reservations').insert([
      { key: old, reserved_at: [hourAgo], last_at: hourAgo },
      { key: recent, reserved_at: [new Date()], last_at: new Date() },
      { key: released, reserved_at: [], last_at: new Date() },
    ]);
    await server.tollgate.sweepExpired();
    const keys = (await db('attempt_reservations').whereIn('key', [old, recent, released]).select('key')).map(
      (row: { key: string }) => row.key,
    );
    expect(keys).toEqual([recent]);
  });
});
