import { beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/users/password.js';
import { onPostgres, unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

describe('tollgate keys', () => {
  it('list --json is an array of keys with their state, a current and a next for every algorithm', async () => {
    const keys = await tollgateJson<Record<string, unknown>[]>(['keys', 'list']);
    expect(Array.isArray(keys)).toBe(true);
    for (const key of keys) {
      expect(key).toMatchObject({ kid: expect.any(String), alg: expect.any(String), created_at: expect.any(String) });
      expect(['current', 'next', 'previous']).toContain(key.state);
      expect(key).not.toHaveProperty('d');
    }
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA']) {
      expect(
        keys.filter((key) => key.alg === alg && key.state === 'current'),
        alg,
      ).toHaveLength(1);
      expect(
        keys.filter((key) => key.alg === alg && key.state === 'next'),
        alg,
      ).toHaveLength(1);
    }
    expect(keys).toEqual((await server.admin('get', '/keys')).body);
  });

  it('list prints a table without --json', async () => {
    const run = await tollgate(['keys', 'list']);
    expect(run.code).toBe(0);
    const [header] = run.stdout.split('\n');
    for (const column of ['KID', 'ALG', 'STATE']) expect(header).toContain(column);
    expect(run.stdout).toMatch(/\bcurrent\b/);
    expect(run.stdout).toMatch(/\bnext\b/);
  });

  // Rotating changes the ring every test file on a shared PostgreSQL signs with: embedded only,
  // where this file's database is its own and its next keys were published seconds ago.
  it.skipIf(onPostgres)('rotate is refused with the time it becomes possible; --force rotates at once', async () => {
    const refused = expectFailure(await tollgate(['keys', 'rotate']));
    expect(refused).toMatch(/possible from \d{4}-\d{2}-\d{2}T/);
    expect(refused).toMatch(/--force/);
    const before = await tollgateJson<Record<string, unknown>[]>(['keys', 'list']);
    const after = await tollgateJson<Record<string, unknown>[]>(['keys', 'rotate', '--force']);
    const formerNext = before.find((key) => key.alg === 'ES256' && key.state === 'next')!.kid;
    expect(after.find((key) => key.kid === formerNext)?.state).toBe('current');
    expect(after.filter((key) => key.state === 'previous')).toHaveLength(4);
  });

  it('revoke needs one KID, and answers an unknown one with a one-line message', async () => {
    expect(expectFailure(await tollgate(['keys', 'revoke']))).toMatch(/expected one ID/);
    const run = await tollgate(['keys', 'revoke', 'no-such-kid']);
    const message = expectFailure(run);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(message).toMatch(/^tollgate: no signing key has the kid "no-such-kid"/);
    const help = await tollgate(['help']);
    expect(help.stdout).toMatch(/keys list\|rotate \[--force\]\|revoke KID/);
  });

  // Revoking changes the ring every test file on a shared PostgreSQL signs with: embedded only.
  it.skipIf(onPostgres)('revoke KID withdraws a current key with its next; list no longer shows them', async () => {
    const before = await tollgateJson<Record<string, unknown>[]>(['keys', 'list']);
    const current = before.find((key) => key.alg === 'ES256' && key.state === 'current')!.kid as string;
    const next = before.find((key) => key.alg === 'ES256' && key.state === 'next')!.kid as string;
    const result = await tollgateJson<{ revoked: string[]; keys: Record<string, unknown>[] }>([
      'keys',
      'revoke',
      current,
    ]);
    expect([...result.revoked].sort()).toEqual([current, next].sort());
    const after = await tollgateJson<Record<string, unknown>[]>(['keys', 'list']);
    expect(result.keys).toEqual(after);
    expect(after.map((key) => key.kid)).not.toContain(current);
    expect(after.map((key) => key.kid)).not.toContain(next);
    expect(after.filter((key) => key.alg === 'ES256' && key.state !== 'previous')).toHaveLength(2);

    const previous = after.find((key) => key.state === 'previous')!.kid as string;
    const table = await tollgate(['keys', 'revoke', previous]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Revoked ${previous}`);
    expect(table.stdout).toMatch(/KID\s+ALG\s+STATE/);
    expect(expectFailure(await tollgate(['keys', 'revoke', previous]))).toContain('no signing key has the kid');
  });
});

describe('tollgate users', () => {
  const storedHash = async (id: string) =>
    (await server.tollgate.database.knex('users').where({ id }).first()).password_hash as string;

  it('create --password-stdin reads one line; the newline is not part of the password', async () => {
    const username = unique('cli-user-');
    const user = await tollgateJson(
      ['users', 'create', '--username', username, '--email', `${username}@example.com`, '--password-stdin'],
      {},
      'juniper-kettle-58\n',
    );
    expect(user).toMatchObject({ username, email: `${username}@example.com` });
    expect(String(user.id)).toMatch(/^user_/);
    expect(user).not.toHaveProperty('password_hash');
    const hash = await storedHash(String(user.id));
    expect(await verifyPassword('juniper-kettle-58', hash)).toBe(true);
    expect(await verifyPassword('juniper-kettle-58\n', hash)).toBe(false);

    const listed = await tollgateJson<Record<string, unknown>[]>(['users', 'list']);
    expect(listed.map((entry) => entry.id)).toContain(user.id);
    expect((await tollgateJson(['users', 'show', username])).id).toBe(user.id);

    const changed = await tollgateJson(
      ['users', 'set-password', String(user.id), '--password-stdin'],
      {},
      'harbor-thistle-71\r\n',
    );
    expect(changed.id).toBe(user.id);
    expect(await verifyPassword('harbor-thistle-71', await storedHash(String(user.id)))).toBe(true);
    expect((await tollgateJson(['users', 'delete', String(user.id)])).id).toBe(user.id);
  });

  it('refuses a weak password, and a password given any other way than stdin', async () => {
    const weak = expectFailure(
      await tollgate(['users', 'create', '--username', unique('weak-'), '--password-stdin'], {}, 'password\n'),
    );
    expect(weak).toMatch(/common/);
    const noStdin = expectFailure(await tollgate(['users', 'create', '--username', unique('nostdin-')]));
    expect(noStdin).toMatch(/--password-stdin/);
    expect(
      expectFailure(await tollgate(['users', 'create', '--username', unique('flag-'), '--password', 'x'])),
    ).toMatch(/password/);
  });
});
