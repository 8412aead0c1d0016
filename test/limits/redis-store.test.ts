import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { redisBackedServers, TEST_REDIS_URL } from '../helpers/redis-servers.js';
import { expectTooManyRequests, randomIp, tokenRequest } from '../helpers/rate-limits.js';
import { startStalledRedis, type StalledRedis } from './stalled-redis.js';
import { createPartner, issueKey, untilActive, verify } from '../api-keys/api-key-helpers.js';

/**
 * REDIS_URL moves every limit's counters to Redis. Runs where TEST_REDIS_URL names a Redis (CI);
 * each run keys its counters under a prefix of its own, so runs sharing that Redis keep apart.
 * On PostgreSQL two instances share the limit; on the embedded database (one instance per
 * database) one instance shows where the counters are.
 */
describe.skipIf(!TEST_REDIS_URL)('rate limits on Redis (REDIS_URL)', () => {
  const rig = redisBackedServers({ TRUST_PROXY: 'true', CLIENT_AUTH_FAILURE_LIMIT: '2/h' });
  const { prefix } = rig;
  let redis: Redis;
  let servers: TestServer[];
  beforeAll(() => {
    ({ redis, servers } = rig);
  });

  it('holds a client limit across instances, with its counter in Redis and none in the database', async () => {
    const [a] = servers;
    const api = await createApi(a!);
    const client = await createServiceClient(a!, [api.scopes[0]!], { rate_limit: '3/h' });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const server = servers[i % servers.length]!;
      statuses.push((await tokenRequest(server, client.client_id, client.client_secret)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expectTooManyRequests(await tokenRequest(a!, client.client_id, client.client_secret), 3600);

    expect(await redis.get(`${prefix}client:${client.client_id}`)).toBe('6');
    expect(await a!.tollgate.database.knex('rate_limits').where('key', 'like', `%${client.client_id}`)).toEqual([]);
  });

  it("counts an API key's grants there, across instances, and none in the database", async () => {
    const [a] = servers;
    const partner = await createPartner(a!);
    const key = await issueKey(a!, partner, { rate_limit: '3/h' });
    // Another instance learns of a new API within 5 s (its catalog cache): wait, without counting.
    for (const server of servers) await untilActive(server, key.key!, partner.api.identifier);
    const granted = [];
    for (let i = 0; i < 5; i++) {
      const server = servers[i % servers.length]!;
      granted.push((await verify(server, key.key!, partner.api.identifier)).rate_limit_granted);
    }
    expect(granted).toEqual([1, 1, 1, 0, 0]);
    expect(await redis.get(`${prefix}api_key:${key.id}`)).toBe('5');
    expect(await a!.tollgate.database.knex('rate_limits').where('key', 'like', `%${key.id}`)).toEqual([]);
  });

  it('connects once per instance and lets go of Redis on close', async () => {
    const connections = async () =>
      String(await redis.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${prefix} `)).length;
    expect(await connections()).toBe(servers.length);
    const extra = await startServer({ env: { REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix } });
    expect(await connections()).toBe(servers.length + 1);
    await extra.close();
    expect(await connections()).toBe(servers.length);
  });

  it('keeps the failed-authentication limit there too', async () => {
    const [a] = servers;
    const api = await createApi(a!);
    const client = await createServiceClient(a!, [api.scopes[0]!]);
    const guesser = randomIp();
    for (let i = 0; i < 2; i++) expect((await tokenRequest(a!, client.client_id, 'wrong', guesser)).status).toBe(401);
    expectTooManyRequests(await tokenRequest(a!, client.client_id, client.client_secret, guesser), 3600);
    expect(await redis.get(`${prefix}client_auth_failures:${guesser}`)).toBe('2');
  });
});

describe('rate limits when Redis cannot be reached', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Nothing listens on port 1: every connection is refused.
    server = await startServer({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('let requests through (never a 5xx) and say so in the log', async () => {
    const api = await createApi(server);
    const client = await createServiceClient(server, [api.scopes[0]!], { rate_limit: '1/h' });
    for (let i = 0; i < 4; i++) {
      const response = await tokenRequest(server, client.client_id, client.client_secret);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    const warnings = server.logs.filter((line) => line.includes('rate-limit store unavailable'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).not.toContain(client.client_secret);
    expect(server.logs.join('')).toMatch(/Redis \(REDIS_URL\)/);
  });
});

describe('rate limits when Redis answers too slowly', () => {
  let redis: StalledRedis;
  let server: TestServer;

  beforeAll(async () => {
    // Connects and becomes ready, then never answers the counter's command: without the 500 ms
    // command timeout, each limited token request would wait for it for ever.
    redis = await startStalledRedis();
    server = await startServer({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: unique('tollgate-test-') } });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.close();
  });

  it('let requests through once the command times out, never hang, and say so once', async () => {
    // Ready: the start did not give up waiting for it.
    expect(redis.commands.map(([name]) => name)).toContain('INFO');
    expect(server.logs.join('')).not.toContain('did not answer at start');

    const api = await createApi(server);
    const client = await createServiceClient(server, [api.scopes[0]!], { rate_limit: '1/h' });
    for (let i = 0; i < 3; i++) {
      // A bound on a hang, not a measure of speed: the command times out after 500 ms.
      const response = await tokenRequest(server, client.client_id, client.client_secret).timeout({ deadline: 4000 });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.access_token).toEqual(expect.any(String));
    }
    // The counter's command reached Redis and was left unanswered: the store was slow, not away.
    expect(redis.unanswered()[0]).toMatch(/^EVAL(SHA)?$/);

    const warnings = server.logs
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('rate-limit store unavailable'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // One line per limit per 10 s, however many requests went through unlimited.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, limit: 'client', reason: 'Command timed out' });
    expect(JSON.stringify(warnings)).not.toContain(client.client_secret);
  });
});
