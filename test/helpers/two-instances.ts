import { isolatedPostgres } from './database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from './fixtures.js';
import { startServer, type TestServer } from './server.js';

export interface TwoInstances {
  a: TestServer;
  b: TestServer;
  /** An API and a service client allowed its first scope, made on `a`. */
  api: ApiFixture;
  client: ClientFixture;
  close(): Promise<void>;
}

/**
 * Two Tollgate instances on a PostgreSQL database of their own (the key ring they change is every
 * other test file's too on the shared one). Only on PostgreSQL: call it under describe.skipIf(!onPostgres).
 */
export async function startTwoInstances(env: Record<string, string>): Promise<TwoInstances> {
  const database = (await isolatedPostgres())!;
  const withDatabase = { ...env, DATABASE_URL: database.url };
  const [a, b] = await Promise.all([startServer({ env: withDatabase }), startServer({ env: withDatabase })]);
  const api = await createApi(a);
  const client = await createServiceClient(a, [api.scopes[0]!]);
  return {
    a,
    b,
    api,
    client,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    },
  };
}
