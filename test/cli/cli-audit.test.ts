import { beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';
import { whileAuditStandsStill, type AuditJson } from '../audit/audit-helpers.js';

const cli = useCliServer();
let server: TestServer;
/** Refused input must never reach the admin API: nothing listens here. */
const NOWHERE = { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:9' };

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

describe('tollgate audit list', () => {
  it('--json: the entries newest first, as GET /audit answers them, filtered by --type and --limit', async () => {
    const name = unique('audited-');
    const created = await server.admin('post', '/clients', { name, grant_types: ['client_credentials'] });
    expect(created.status).toBe(201);
    const id = created.body.client_id as string;
    expect((await server.admin('delete', `/clients/${id}`)).status).toBe(200);

    const clientEntries = await tollgateJson<AuditJson[]>(['audit', 'list', '--type', 'client.*', '--limit', '1000']);
    const ours = clientEntries.filter((entry) => entry.subject === id);
    expect(ours.map((entry) => entry.type)).toEqual(['client.deleted', 'client.created']);
    expect(clientEntries.every((entry) => entry.type.startsWith('client.'))).toBe(true);
    expect(ours[1]).toMatchObject({ detail: { name }, actor: expect.stringMatching(/^admin:[0-9a-f]{8}$/) });
    expect(JSON.stringify(clientEntries)).not.toContain(created.body.client_secret);

    const exact = await tollgateJson<AuditJson[]>(['audit', 'list', '--type', 'client.created', '--limit', '1000']);
    expect(exact.every((entry) => entry.type === 'client.created')).toBe(true);
    expect(exact.filter((entry) => entry.subject === id)).toHaveLength(1);

    expect(await tollgateJson<AuditJson[]>(['audit', 'list', '--limit', '1'])).toHaveLength(1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await tollgateJson<AuditJson[]>(['audit', 'list', '--since', future])).toEqual([]);
    const { read: fromCli, newest } = await whileAuditStandsStill(server, () =>
      tollgateJson<AuditJson[]>(['audit', 'list', '--limit', '5']),
    );
    expect(fromCli).toEqual(newest);
  });

  it('without --json: a table with the time, type, actor, subject, address and detail', async () => {
    const name = unique('tabled-');
    const created = await server.admin('post', '/apis', { identifier: `https://${name}.example.com` });
    expect(created.status).toBe(201);
    const run = await tollgate(['audit', 'list', '--type', 'api.created', '--limit', '1000']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['TIME', 'TYPE', 'ACTOR', 'SUBJECT', 'IP', 'DETAIL']);
    const row = rows.find((line) => line.includes(created.body.id));
    expect(row).toMatch(/^\d{4}-\d{2}-\d{2}T\S+Z\s+api\.created\s+admin:[0-9a-f]{8}\s/);
    expect(row).toContain(`"identifier":"https://${name}.example.com"`);
  });

  it.each([
    [['--since', 'yesterday'], /^tollgate: --since must be an ISO 8601 date or time/],
    [['--since', '2026-02-30T10:00:00Z'], /^tollgate: --since must be an ISO 8601/],
    [['--limit', '0'], /^tollgate: --limit must be a whole number from 1 to 1000$/],
    [['--limit', '1001'], /^tollgate: --limit must be a whole number from 1 to 1000$/],
    [['--limit', 'many'], /^tollgate: --limit must be a whole number from 1 to 1000$/],
    [['--type', 'client'], /^tollgate: --type must be an entry type such as client\.created/],
    [['--limit'], /^tollgate: Option '--limit <value>' argument missing/],
    [['--order', 'asc'], /^tollgate: Unknown option '--order'/],
    [['stray'], /^tollgate: unexpected argument "stray"/],
  ])('refuses %j with a readable message, non-zero, before any HTTP call', async (args, message) => {
    const run = await tollgate(['audit', 'list', ...args], NOWHERE);
    expect(expectFailure(run)).toMatch(message);
  });

  it('--help lists the options with their descriptions from the contract', async () => {
    const run = await tollgate(['audit', 'list', '--help'], NOWHERE);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: tollgate audit list \[--since ISO\] \[--type TYPE\] \[--limit N\] \[--json\]/);
    expect(run.stdout).toContain('GET /audit');
    expect(run.stdout).toMatch(
      /--type TYPE\s+one type \(client\.created\), or every type under a prefix \(client\.\*\)/,
    );
    expect(run.stdout).toMatch(/--limit N\s+how many entries at most/);
    const top = await tollgate(['--help'], NOWHERE);
    expect(top.stdout).toContain('tollgate audit list [--since ISO] [--type TYPE] [--limit N]');
  });
});
