import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/database.js';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

// Two instances need a database both can reach: PostgreSQL only (PGlite is one process).
describe.skipIf(!onPostgres)('changes reach every instance within 5 s', () => {
  let a: TestServer;
  let b: TestServer;
  let api: ApiFixture;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    api = await createApi(a);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  async function tokenStatus(server: TestServer, client: ClientFixture, secret = client.client_secret) {
    const response = await server
      .public()
      .post('/token')
      .auth(client.client_id, secret)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: api.scopes[0] });
    return response.status;
  }

  /** Polls until the condition holds; returns how long it took. */
  async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (await condition()) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`condition not met within ${ms} ms`);
  }

  it('a disabled client stops working on the other instance', async () => {
    const client = await createServiceClient(a, [api.scopes[0]!]);
    expect(await tokenStatus(b, client)).toBe(200); // B has it cached now
    expect((await a.admin('patch', `/clients/${client.client_id}`, { disabled: true })).status).toBe(200);
    expect(await tokenStatus(a, client)).toBe(401); // at once where the change was made
    const took = await within(5_000, async () => (await tokenStatus(b, client)) === 401);
    expect(took).toBeLessThan(5_000);
  });

  it('a rotated secret replaces the old one on the other instance', async () => {
    const client = await createServiceClient(a, [api.scopes[0]!]);
    expect(await tokenStatus(b, client)).toBe(200);
    const rotated = await a.admin('post', `/clients/${client.client_id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    await within(
      5_000,
      async () =>
        (await tokenStatus(b, client)) === 401 && (await tokenStatus(b, client, rotated.body.client_secret)) === 200,
    );
  });

  it('a new API scope granted on one instance is usable on the other', async () => {
    const client = await createServiceClient(a, [api.scopes[0]!]);
    const other = await createApi(a);
    expect(
      (await a.admin('patch', `/clients/${client.client_id}`, { scopes: [api.scopes[0], other.scopes[0]] })).status,
    ).toBe(200);
    await within(5_000, async () => {
      const response = await b
        .public()
        .post('/token')
        .auth(client.client_id, client.client_secret)
        .type('form')
        .send({ grant_type: 'client_credentials', scope: other.scopes[0] });
      return response.status === 200;
    });
  });
});
