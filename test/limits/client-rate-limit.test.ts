import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, unique } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';
import { expectTooManyRequests, randomIp, rateLimited, tokenRequest } from '../helpers/rate-limits.js';

/**
 * The contract's "Operations": `clients create|update --rate-limit` bounds a client's token
 * requests across all instances; beyond it 429, Retry-After, RFC 6749 JSON. Limits of an hour:
 * no window ends while a test runs.
 */
const HOUR = 3600;

describe('a client rate limit', () => {
  let server: TestServer;
  let api: ApiFixture;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: 'true' } });
    api = await createApi(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const limitedClient = (rateLimit: string) => createServiceClient(server, [api.scopes[0]!], { rate_limit: rateLimit });

  it('is shown on the client as written, and refused when it is not a rate', async () => {
    const client = await limitedClient('3/h');
    expect(client).toMatchObject({ rate_limit: '3/h' });
    expect((await server.admin('get', `/clients/${client.client_id}`)).body).toMatchObject({ rate_limit: '3/h' });
    const unlimited = await createServiceClient(server, [api.scopes[0]!]);
    expect(unlimited).toMatchObject({ rate_limit: null });

    for (const bad of ['3', 'ten/s', '0/s', '5/day', '5/0s', 7]) {
      const response = await server.admin('post', '/clients', {
        name: unique('bad-'),
        grant_types: ['client_credentials'],
        rate_limit: bad,
      });
      expect(response.status, String(bad)).toBe(400);
      expect(response.body.error_description, String(bad)).toMatch(/rate_limit/);
    }
  });

  it('answers 429 with Retry-After and RFC 6749 JSON beyond the limit, before issuing anything', async () => {
    const client = await limitedClient('3/h');
    const before = await rateLimited(server, 'client');
    for (let i = 0; i < 3; i++)
      expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
    expectTooManyRequests(await tokenRequest(server, client.client_id, client.client_secret), HOUR);
    // From another address too: the limit is the client's, not its address's.
    expectTooManyRequests(await tokenRequest(server, client.client_id, client.client_secret, randomIp()), HOUR);
    expect(await rateLimited(server, 'client')).toBe(before + 2);
    const metrics = (await server.admin('get', '/metrics')).text;
    expect(metrics).not.toContain(client.client_id);
  });

  it('is counted per client: another client is not refused', async () => {
    const first = await limitedClient('1/h');
    const second = await limitedClient('1/h');
    expect((await tokenRequest(server, first.client_id, first.client_secret)).status).toBe(200);
    expect((await tokenRequest(server, first.client_id, first.client_secret)).status).toBe(429);
    expect((await tokenRequest(server, second.client_id, second.client_secret)).status).toBe(200);
  });

  it('never limits a client without one', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    for (let i = 0; i < 25; i++) {
      const response = await tokenRequest(server, client.client_id, client.client_secret);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
  });

  it('costs a client without a limit no counter round trip, and a client with a small limit one per token', async () => {
    // The token path is benchmarked: counters are touched only for clients that have a limit (the
    // failed-authentication limit is checked in memory and written only on failures).
    const knex = server.tollgate.database.knex;
    const counted: string[] = [];
    const onQuery = ({ sql }: { sql: string }) => {
      if (sql.includes('rate_limits')) counted.push(sql);
    };
    const unlimited = await createServiceClient(server, [api.scopes[0]!]);
    // Under 100 a window: no leases, one counter round trip per token (leases: the test below).
    const limited = await limitedClient('99/h');
    knex.on('query', onQuery);
    try {
      for (let i = 0; i < 5; i++)
        expect((await tokenRequest(server, unlimited.client_id, unlimited.client_secret)).status).toBe(200);
      expect(counted).toEqual([]);
      for (let i = 0; i < 3; i++)
        expect((await tokenRequest(server, limited.client_id, limited.client_secret)).status).toBe(200);
      expect(counted).toHaveLength(3);
    } finally {
      knex.removeListener('query', onQuery);
    }
  });

  it('takes a limit of 100 or more from the store in leases: exact on one instance, one round trip per lease', async () => {
    // 100/h leases 2 points at a time (2 % of the limit): 50 counter round trips for 100 tokens,
    // and still exactly 100 — concurrent requests share a lease: none is lost or overspent.
    const client = await limitedClient('100/h');
    const knex = server.tollgate.database.knex;
    let roundTrips = 0;
    const onQuery = ({ sql }: { sql: string }) => {
      if (sql.includes('rate_limits')) roundTrips += 1;
    };
    knex.on('query', onQuery);
    try {
      const statuses = await Promise.all(
        Array.from({ length: 130 }, () => tokenRequest(server, client.client_id, client.client_secret)),
      ).then((responses) => responses.map((response) => response.status));
      expect(statuses.filter((status) => status === 200)).toHaveLength(100);
      expect(statuses.filter((status) => status === 429)).toHaveLength(30);
      // One lease at a time per client on an instance: the requests waiting for it share it; the
      // store's first refusal is remembered until the window ends — 51 round trips, not 130.
      expect(roundTrips).toBeLessThanOrEqual(55);
      expect(roundTrips).toBeGreaterThanOrEqual(50);
    } finally {
      knex.removeListener('query', onQuery);
    }
    expectTooManyRequests(await tokenRequest(server, client.client_id, client.client_secret), HOUR);
  });

  it('is not used up by requests that name the client without its secret', async () => {
    const victim = await limitedClient('2/h');
    for (let i = 0; i < 10; i++) {
      const basic = await tokenRequest(server, victim.client_id, 'tgs_not-the-secret');
      expect(basic.status).toBe(401);
      expect(basic.body.error).toBe('invalid_client');
      const posted = await server
        .public()
        .post('/token')
        .set('X-Forwarded-For', randomIp())
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: victim.client_id, client_secret: 'wrong' });
      expect(posted.status).toBe(401);
      const nothing = await server
        .public()
        .post('/token')
        .set('X-Forwarded-For', randomIp())
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: victim.client_id });
      expect(nothing.status).toBe(401);
    }
    expect((await tokenRequest(server, victim.client_id, victim.client_secret)).status).toBe(200);
    expect((await tokenRequest(server, victim.client_id, victim.client_secret)).status).toBe(200);
    expect((await tokenRequest(server, victim.client_id, victim.client_secret)).status).toBe(429);
  });

  it('is removed with "none" or JSON null, and left as it is when not given', async () => {
    for (const removal of ['none', null]) {
      const client = await limitedClient('1/h');
      expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
      expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(429);

      const kept = await server.admin('patch', `/clients/${client.client_id}`, { name: unique('n-') });
      expect(kept.body).toMatchObject({ rate_limit: '1/h' });
      expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(429);

      const removed = await server.admin('patch', `/clients/${client.client_id}`, { rate_limit: removal });
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(removed.body).toMatchObject({ rate_limit: null });
      for (let i = 0; i < 5; i++)
        expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
    }
  });

  it('set by an update applies to the next request on the instance that made it', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
    const updated = await server.admin('patch', `/clients/${client.client_id}`, { rate_limit: '2/5min' });
    expect(updated.body).toMatchObject({ rate_limit: '2/5min' });
    expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
    expect((await tokenRequest(server, client.client_id, client.client_secret)).status).toBe(200);
    expectTooManyRequests(await tokenRequest(server, client.client_id, client.client_secret), 300);
  });
});

describe('the sweeper', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("deletes every limit's counters whose window ended, and keeps the others", async () => {
    const db = server.tollgate.database.knex;
    const subject = unique('sweep-');
    const ended = Date.now() - 5 * 60_000;
    const running = Date.now() + 60_000;
    const rows = ['client', 'client_auth_failures', 'anonymous'].flatMap((limit) => [
      { key: `${limit}:${subject}-ended`, points: 1, expire: ended },
      { key: `${limit}:${subject}-running`, points: 1, expire: running },
    ]);
    await db('rate_limits').insert(rows);
    await server.tollgate.sweepExpired();
    const left = await db('rate_limits').where('key', 'like', `%${subject}%`).pluck('key');
    expect(left.sort()).toEqual(
      rows
        .filter((row) => row.expire === running)
        .map((row) => row.key)
        .sort(),
    );
  });
});

describe.skipIf(!onPostgres)('a client rate limit with two instances on one PostgreSQL', () => {
  let instances: TwoInstances;

  beforeAll(async () => {
    instances = await startTwoInstances({ TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await instances?.close();
  });

  it('holds across them: each counts what the other allowed', async () => {
    const { a, b, api } = instances;
    const client = await createServiceClient(a, [api.scopes[0]!], { rate_limit: '4/h' });
    const statuses = [];
    for (const server of [a, b, a, b, a, b])
      statuses.push((await tokenRequest(server, client.client_id, client.client_secret)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('with leases, never more than the limit across them, and at most a lease less per instance', async () => {
    const { a, b, api } = instances;
    // 200/h: leases of 4. Each instance may hold up to 3 points it leased and no longer needs.
    const client = await createServiceClient(a, [api.scopes[0]!], { rate_limit: '200/h' });
    let allowed = 0;
    for (let round = 0; round < 110; round += 1) {
      const [one, other] = await Promise.all(
        [a, b].map((server) => tokenRequest(server, client.client_id, client.client_secret)),
      );
      allowed += [one!, other!].filter((response) => response.status === 200).length;
    }
    expect(allowed).toBeLessThanOrEqual(200);
    expect(allowed).toBeGreaterThanOrEqual(200 - 2 * 3);
  });
});
