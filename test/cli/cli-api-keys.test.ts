import { beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { createPartner, verify, type ApiKeyJson, type Partner } from '../api-keys/api-key-helpers.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;
let partner: Partner;
/** Nothing listens there: a command that gets this far would fail with "cannot reach". */
const NOWHERE = { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:9' };

beforeAll(async () => {
  server = cli.server;
  runAgainst(cli);
  partner = await createPartner(server);
});

describe('tollgate api-keys', () => {
  it('create prints the key once (--json and for people); list and show never', async () => {
    const created = await tollgateJson<ApiKeyJson>([
      'api-keys',
      'create',
      '--client',
      partner.client.client_id,
      '--scopes',
      partner.api.scopes[0]!,
      '--name',
      'Acme production',
      '--expires-in',
      '90',
      '--rate-limit',
      '10/s',
    ]);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^tgk_[0-9A-Za-z]{49}$/),
      client_id: partner.client.client_id,
      name: 'Acme production',
      scopes: [partner.api.scopes[0]],
      rate_limit: '10/s',
      last_used_at: null,
    });
    expect(await verify(server, created.key!, partner.api.identifier)).toMatchObject({ active: true });

    const human = await tollgate([
      'api-keys',
      'create',
      '--client',
      partner.client.client_id,
      '--scopes',
      partner.api.scopes[0]!,
    ]);
    expect(human.code, human.stderr).toBe(0);
    const printed = /^key: (tgk_\S+)$/m.exec(human.stdout)?.[1];
    expect(printed).toMatch(/^tgk_[0-9A-Za-z]{49}$/);
    expect(human.stdout).toContain('shown once');

    for (const args of [
      ['api-keys', 'list'],
      ['api-keys', 'list', '--json'],
      ['api-keys', 'list', '--client', partner.client.client_id],
      ['api-keys', 'show', created.id],
      ['api-keys', 'show', created.id, '--json'],
    ]) {
      const run = await tollgate(args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(created.id);
      expect(run.stdout).not.toContain(created.key);
      expect(run.stdout).not.toContain(printed);
    }
  });

  it("list --client shows that client's keys only", async () => {
    const other = await createPartner(server);
    const mine = await tollgateJson<ApiKeyJson>([
      'api-keys',
      'create',
      '--client',
      other.client.client_id,
      '--scopes',
      other.api.scopes[0]!,
    ]);
    const listed = await tollgateJson<ApiKeyJson[]>(['api-keys', 'list', '--client', other.client.client_id]);
    expect(listed.map((key) => key.id)).toEqual([mine.id]);
    const all = await tollgateJson<ApiKeyJson[]>(['api-keys', 'list']);
    expect(all.length).toBeGreaterThan(1);
    expect(expectFailure(await tollgate(['api-keys', 'list', '--client', 'client_nope']))).toBe(
      'tollgate: no client with id "client_nope"',
    );
  });

  it('rotate --grace keeps the old key working; revoke stops the new one', async () => {
    const key = await tollgateJson<ApiKeyJson>([
      'api-keys',
      'create',
      '--client',
      partner.client.client_id,
      '--scopes',
      partner.api.scopes[0]!,
    ]);
    const rotated = await tollgateJson<ApiKeyJson>(['api-keys', 'rotate', key.id, '--grace', '600']);
    expect(rotated.key).toMatch(/^tgk_/);
    expect(await verify(server, key.key!, partner.api.identifier)).toMatchObject({ active: true });
    expect(await verify(server, rotated.key!, partner.api.identifier)).toMatchObject({ active: true });
    const revoked = await tollgate(['api-keys', 'revoke', rotated.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API key ${rotated.id}`);
    expect(await verify(server, rotated.key!, partner.api.identifier)).toEqual({ active: false });
    expect(expectFailure(await tollgate(['api-keys', 'rotate', key.id]))).toMatch(/already rotated/);
  });

  it("refuses a scope outside the client with the admin API's message", async () => {
    const message = expectFailure(
      await tollgate(['api-keys', 'create', '--client', partner.client.client_id, '--scopes', partner.api.scopes[1]!]),
    );
    expect(message).toContain(`is not allowed scope "${partner.api.scopes[1]}"`);
  });

  it('refuses bad options before any HTTP call, naming the option', async () => {
    const create = ['api-keys', 'create', '--client', 'client_x', '--scopes', 'a:read'];
    const cases: [string[], string | RegExp][] = [
      [['api-keys', 'create', '--scopes', 'a:read'], /^tollgate: --client is required/],
      [['api-keys', 'create', '--client', 'client_x'], /^tollgate: --scopes is required/],
      [[...create, '--expires-in', 'soon'], 'tollgate: --expires-in must be a whole number of days, got "soon"'],
      [[...create, '--expires-in', '0'], /^tollgate: --expires-in must be between 1 and 3650/],
      [[...create, '--rate-limit', 'lots'], /^tollgate: --rate-limit: "lots" is not a rate/],
      [['api-keys', 'rotate', 'key_x', '--grace=-5'], /^tollgate: --grace must be a whole number of seconds/],
      [['api-keys', 'rotate', 'key_x', '--grace', 'a while'], /whole number of seconds/],
      [['api-keys', 'show'], /^tollgate: expected one ID/],
      [['api-keys', 'burn'], /^tollgate: usage:/],
    ];
    for (const [args, expected] of cases) {
      const message = expectFailure(await tollgate(args, NOWHERE));
      if (typeof expected === 'string') expect(message, args.join(' ')).toBe(expected);
      else expect(message, args.join(' ')).toMatch(expected);
    }
  });

  it('has help for the group and each command', async () => {
    const group = await tollgate(['api-keys', '--help'], NOWHERE);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('tollgate api-keys create --client CLIENT_ID --scopes');
    expect(group.stdout).toContain('tollgate api-keys rotate ID [--grace SECONDS]');
    const create = await tollgate(['api-keys', 'create', '--help'], NOWHERE);
    expect(create.stdout).toContain('POST /api-keys');
  });
});
