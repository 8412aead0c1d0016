import { beforeAll, describe, expect, it } from 'vitest';
import { tokenTtlLimitMessage } from '../../src/lib/token-lifetime.js';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

describe('tollgate apis', () => {
  const prefix = unique('cli');
  const identifier = `https://${prefix}.example.com/v1`;
  const scopes = [`${prefix}:read`, `${prefix}:write`];
  let created: Record<string, unknown>;

  it('create --json prints exactly one JSON document describing the API', async () => {
    const run = await tollgate(['apis', 'create', '--identifier', identifier, '--scopes', scopes.join(' '), '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    created = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(created).toMatchObject({ identifier, scopes, token_ttl: 600, alg: 'ES256' });
    expect(created.id).toEqual(expect.stringMatching(/^api_/));

    const stored = await server.admin('get', `/apis/${created.id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(created);
  });

  it('list --json is an array holding the API', async () => {
    const apis = await tollgateJson<Record<string, unknown>[]>(['apis', 'list']);
    expect(Array.isArray(apis)).toBe(true);
    expect(apis.find((api) => api.id === created.id)).toEqual(created);
  });

  it('show finds the API by id and by identifier', async () => {
    expect(await tollgateJson(['apis', 'show', String(created.id)])).toEqual(created);
    expect(await tollgateJson(['apis', 'show', identifier])).toEqual(created);
  });

  it('prints readable tables without --json', async () => {
    const list = await tollgate(['apis', 'list']);
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    const [header] = list.stdout.split('\n');
    for (const column of ['ID', 'IDENTIFIER', 'SCOPES']) expect(header).toContain(column);
    expect(list.stdout).toContain(identifier);
    expect(() => JSON.parse(list.stdout)).toThrow();

    const show = await tollgate(['apis', 'show', String(created.id)]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(identifier);
    expect(show.stdout).toContain(scopes[0]);
  });

  it('refuses --token-ttl above 3600 with one line on stderr and creates nothing', async () => {
    const other = `https://${unique('cli')}.example.com`;
    const run = await tollgate([
      'apis',
      'create',
      '--identifier',
      other,
      '--scopes',
      unique('cli:'),
      '--token-ttl',
      '4000',
      '--json',
    ]);
    expectFailure(run);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('3600');
    // The admin API's wording, from the one constant module (src/apis/api.ts).
    expect(run.stderr).toContain(tokenTtlLimitMessage('--token-ttl'));
    expect((await server.admin('get', `/apis/${encodeURIComponent(other)}`)).status).toBe(404);
  });

  it('accepts --token-ttl 3600 and --alg, and reports what the server refuses', async () => {
    const other = `https://${unique('cli')}.example.com`;
    const api = await tollgateJson([
      'apis',
      'create',
      '--identifier',
      other,
      '--scopes',
      unique('cli:'),
      '--token-ttl',
      '3600',
      '--alg',
      'PS256',
    ]);
    expect(api).toMatchObject({ identifier: other, token_ttl: 3600, alg: 'PS256' });

    const badAlg = await tollgate([
      'apis',
      'create',
      '--identifier',
      `https://${unique('cli')}.example.com`,
      '--scopes',
      unique('cli:'),
      '--alg',
      'HS256',
    ]);
    expect(expectFailure(badAlg)).toContain('ES256');

    const taken = await tollgate([
      'apis',
      'create',
      '--identifier',
      `https://${unique('cli')}.example.com`,
      '--scopes',
      scopes[0]!,
    ]);
    expect(expectFailure(taken)).toContain(identifier);

    const missing = await tollgate(['apis', 'create', '--scopes', unique('cli:')]);
    expect(expectFailure(missing)).toContain('--identifier');
  });

  it('update changes the API and delete removes it', async () => {
    const updated = await tollgateJson([
      'apis',
      'update',
      String(created.id),
      '--token-ttl',
      '1200',
      '--name',
      'Orders',
    ]);
    expect(updated).toMatchObject({ id: created.id, identifier, token_ttl: 1200, name: 'Orders' });

    const deleted = await tollgateJson(['apis', 'delete', identifier]);
    expect(deleted.id).toBe(created.id);
    expect((await server.admin('get', `/apis/${created.id}`)).status).toBe(404);

    const show = await tollgate(['apis', 'show', String(created.id), '--json']);
    expect(expectFailure(show)).toContain(String(created.id));
  });
});
