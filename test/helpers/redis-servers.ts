import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { isolatedPostgres, onPostgres, unique } from './database.js';
import { startServer, type TestServer } from './server.js';

/** The Redis the suite may use (CI sets it); the tests that need one are skipped without it. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

export interface RedisBackedServers {
  /** REDIS_KEY_PREFIX of these servers: a run's own, so runs sharing one Redis keep apart. */
  readonly prefix: string;
  /** A connection of the test's own, to look at what the servers wrote. */
  redis: Redis;
  /** Two instances on one fresh PostgreSQL database, or one on the embedded database. */
  servers: TestServer[];
}

/**
 * Tollgate with REDIS_URL, for the describe block it is called in (its beforeAll and afterAll are
 * registered here, so a block's own hooks run after the servers are up): on PostgreSQL two
 * instances sharing a database show what is shared through Redis; on the embedded database (one
 * instance per database) one shows where things are kept. At the end the servers stop, the
 * database is dropped and the keys under the prefix are deleted.
 */
export function redisBackedServers(env: Record<string, string> = {}): RedisBackedServers {
  const rig = { prefix: `${unique('tollgate-test-')}:` } as RedisBackedServers;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    rig.redis = new Redis(TEST_REDIS_URL!);
    const serverEnv: Record<string, string> = { ...env, REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: rig.prefix };
    if (onPostgres) {
      const database = (await isolatedPostgres())!;
      drop = database.drop;
      serverEnv.DATABASE_URL = database.url;
      rig.servers = await Promise.all([startServer({ env: serverEnv }), startServer({ env: serverEnv })]);
    } else {
      rig.servers = [await startServer({ env: serverEnv })];
    }
  });
  afterAll(async () => {
    await Promise.all((rig.servers ?? []).map((server) => server.close()));
    await drop?.();
    if (!rig.redis) return;
    const keys = await rig.redis.keys(`${rig.prefix}*`);
    if (keys.length) await rig.redis.del(...keys);
    rig.redis.disconnect();
  });
  return rig;
}
