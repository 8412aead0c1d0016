import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { redisBackedServers, TEST_REDIS_URL } from '../helpers/redis-servers.js';
import { ask, hmacQuestion, newNonce, now, signaturePaths, signingPartner, untilKnown } from './signature-helpers.js';

/**
 * A nonce is refused on every instance once one has recorded it: in the database every instance
 * shares (PostgreSQL), or in Redis (REDIS_URL). The same question sent to two instances at once
 * is answered active by exactly one of them: the record is one atomic insert-if-absent.
 */
async function replayAcross(servers: TestServer[]) {
  const [a, b] = [servers[0]!, servers[servers.length - 1]!];
  const partner = await signingPartner(a);
  for (const server of servers) await untilKnown(server, partner.hmac.keyid, partner.api.identifier);
  const path = (await signaturePaths(a)).verify;

  const question = hmacQuestion(partner);
  expect((await ask(a, path, question)).body).toMatchObject({ active: true });
  expect((await ask(b, path, question)).body).toEqual({ active: false });

  const publicKey = {
    keyid: partner.ed25519.keyid,
    audience: partner.api.identifier,
    nonce: newNonce(),
    created: String(now()),
  };
  expect((await ask(b, path, publicKey)).body).toMatchObject({ active: true });
  expect((await ask(a, path, publicKey)).body).toEqual({ active: false });

  for (let round = 0; round < 5; round++) {
    const raced = hmacQuestion(partner);
    const answers = await Promise.all(
      servers.flatMap((server) => [ask(server, path, raced), ask(server, path, raced)]),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.filter((answer) => answer.body.active === true)).toHaveLength(1);
  }
  return { partner, question };
}

describe.skipIf(!onPostgres)('signature nonces across two instances on PostgreSQL', () => {
  let servers: TestServer[];

  beforeAll(async () => {
    servers = await Promise.all([startServer(), startServer()]);
  });
  afterAll(() => Promise.all((servers ?? []).map((server) => server.close())));

  it('a nonce recorded through one instance is refused by the other, and a race has one winner', async () => {
    await replayAcross(servers);
  });
});

describe.skipIf(!TEST_REDIS_URL)('signature nonces on Redis (REDIS_URL)', () => {
  const rig = redisBackedServers();
  const { prefix } = rig;
  let redis: Redis;
  let servers: TestServer[];
  beforeAll(() => {
    ({ redis, servers } = rig);
  });

  it('records each nonce once, under the prefix, expiring after the window and margin; none in the database', async () => {
    const { partner, question } = await replayAcross(servers);
    const key = `${prefix}signature_nonce:${partner.hmac.keyid}:${question.nonce}`;
    expect(await redis.get(key)).toBe('1');
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(300 + 120);
    expect(await servers[0]!.tollgate.database.knex('signature_nonces').where({ keyid: partner.hmac.keyid })).toEqual(
      [],
    );
  });
});
