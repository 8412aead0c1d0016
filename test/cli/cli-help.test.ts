import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, ROOT, runAgainst, tollgate, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

/** Nothing listens on the discard port: a command that got as far as HTTP would say it cannot reach the API. */
const NOWHERE = { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:9' };

describe('tollgate GROUP ACTION --help', () => {
  it('prints the usage and every option of the command, from the definitions it parses with', async () => {
    const run = await tollgate(['clients', 'create', '--help'], NOWHERE);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [usageLine, ...rest] = run.stdout.split('\n');
    expect(usageLine).toMatch(/^usage: tollgate clients create --name NAME --grant-types \S+ /);
    for (const flag of [
      '--name',
      '--grant-types',
      '--redirect-uris',
      '--post-logout-redirect-uris',
      '--scopes',
      '--public',
      '--first-party',
      '--json',
    ]) {
      expect(usageLine).toContain(flag);
      // Each option on a line of its own, with what it does (from the admin contract's descriptions).
      expect(
        rest.some((line) => line.trimStart().startsWith(flag)),
        flag,
      ).toBe(true);
    }
    expect(run.stdout).toContain('skips the consent page');
    expect(run.stdout).toContain('POST /clients');

    // Every option the help names is one the command accepts: --help lists nothing it would refuse.
    const update = await tollgate(['apis', 'update', '--help'], NOWHERE);
    expect(update.code).toBe(0);
    for (const flag of ['--identifier', '--scopes', '--name', '--token-ttl', '--alg'])
      expect(update.stdout).toContain(flag);
    expect(update.stdout).toContain('ES256|RS256|PS256|EdDSA');
  });

  it("prints a group's commands with GROUP --help, and still refuses an unknown action", async () => {
    const run = await tollgate(['users', '--help'], NOWHERE);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('tollgate users create --username NAME --password-stdin [--email E] [--json]');
    expect(run.stdout).toContain('tollgate users set-password ID --password-stdin [--json]');
    expectFailure(await tollgate(['users', 'frobnicate'], NOWHERE));
  });
});

describe("the CLI checks options with the admin API's contract", () => {
  it("refuses bad input before any HTTP call, with the admin API's message naming the option", async () => {
    const cases: Array<{ args: string[]; body: Record<string, unknown>; route: string; field: string; flag: string }> =
      [
        {
          args: ['clients', 'create', '--name', 'x', '--grant-types', 'password'],
          body: { name: 'x', grant_types: ['password'] },
          route: '/clients',
          field: '',
          flag: '',
        },
        {
          args: ['apis', 'create', '--identifier', 'orders'],
          body: { identifier: 'orders' },
          route: '/apis',
          field: 'identifier',
          flag: '--identifier',
        },
        {
          args: ['apis', 'create', '--identifier', 'https://a.example.com', '--token-ttl', '4000'],
          body: { identifier: 'https://a.example.com', token_ttl: 4000 },
          route: '/apis',
          field: 'token_ttl',
          flag: '--token-ttl',
        },
        {
          args: ['apis', 'create', '--identifier', 'https://a.example.com', '--scopes', 'openid'],
          body: { identifier: 'https://a.example.com', scopes: ['openid'] },
          route: '/apis',
          field: '',
          flag: '',
        },
        { args: ['clients', 'update', 'client_x'], body: {}, route: '/clients/client_x', field: '', flag: '' },
      ];
    for (const { args, body, route, field, flag } of cases) {
      const message = expectFailure(await tollgate(args, NOWHERE));
      expect(message, args.join(' ')).not.toMatch(/cannot reach/);
      const method = route === '/clients/client_x' ? 'patch' : 'post';
      const api = (await server.admin(method, route, body)).body.error_description as string;
      expect(message, args.join(' ')).toBe(`tollgate: ${field ? api.replace(field, flag) : api}`);
    }
  });

  it("refuses a missing required option with the contract's message and the usage line", async () => {
    const run = await tollgate(['clients', 'create', '--name', unique('c')], NOWHERE);
    expect(expectFailure(run)).toBe('tollgate: --grant-types is required, e.g. client_credentials');
    expect(run.stderr.split('\n')[1]).toMatch(/^usage: tollgate clients create /);
    expect((await server.admin('post', '/clients', { name: 'x' })).body.error_description).toBe(
      'grant_types is required, e.g. client_credentials',
    );
  });
});

describe('the CLI is a client of the admin API only', () => {
  it('loads nothing of the server: only src/cli, src/contract and src/lib', () => {
    const src = path.join(ROOT, 'src');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
        visit(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')));
      }
    };
    visit(path.join(src, 'cli/main.ts'));
    const folders = new Set([...seen].map((file) => path.relative(src, file).split(path.sep)[0]));
    expect([...folders].sort()).toEqual(['cli', 'contract', 'lib']);
  });
});
