import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, verify, type ApiKeyJson } from './api-key-helpers.js';

const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close().catch(() => undefined))));

describe('last_used_at', () => {
  it('is kept in memory per verification and written in one UPDATE when the instance flushes (here: on close)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-last-used-'));
    const first = await startServer({ dataDir });
    servers.push(first);
    const partner = await createPartner(first);
    const keys = [await issueKey(first, partner), await issueKey(first, partner), await issueKey(first, partner)];

    const statements: string[] = [];
    const knex = first.tollgate.database.knex;
    const onQuery = (query: { sql: string }) => statements.push(query.sql);
    knex.on('query', onQuery);
    try {
      for (let round = 0; round < 3; round += 1)
        for (const key of keys)
          expect(await verify(first, key.key!, partner.api.identifier)).toMatchObject({ active: true });
      const writes = () => statements.filter((sql) => /^\s*update\b/i.test(sql) && sql.includes('api_keys'));
      expect(writes(), 'no write per verification').toEqual([]);

      // This instance shows the uses it has not written yet.
      const shown = (await first.admin('get', `/api-keys/${keys[0]!.id}`)).body as ApiKeyJson;
      expect(Date.parse(shown.last_used_at!)).toBeGreaterThanOrEqual(Date.parse(keys[0]!.created_at));
      const stored = await knex('api_keys')
        .whereIn(
          'id',
          keys.map((key) => key.id),
        )
        .whereNotNull('last_used_at');
      expect(stored).toEqual([]);

      await first.close();
      expect(writes(), 'one UPDATE for every key used').toHaveLength(1);
    } finally {
      knex.removeListener('query', onQuery);
    }

    // Another instance on the same database reads what the first one wrote.
    const second = await startServer({ dataDir });
    servers.push(second);
    for (const key of keys) {
      const shown = (await second.admin('get', `/api-keys/${key.id}`)).body as ApiKeyJson;
      expect(shown.last_used_at, key.id).toEqual(expect.any(String));
    }
    const unused = await issueKey(second, partner);
    expect(((await second.admin('get', `/api-keys/${unused.id}`)).body as ApiKeyJson).last_used_at).toBeNull();
  });
});
