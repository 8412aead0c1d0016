import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@tollgate/resource-server';
import { onPostgres } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, type Partner } from './api-key-helpers.js';
import { SERVER_ENV } from './library-helpers.js';

// Two Tollgate instances on one PostgreSQL, an API instance asking each: what the library promises
// holds across instances, not only within one.
describe.skipIf(!onPostgres)('API keys through the library, two Tollgate instances', () => {
  let a: TestServer;
  let b: TestServer;
  let partner: Partner;
  let throughA: Verifier;
  let throughB: Verifier;

  const verify = (verifier: Verifier, key: string) =>
    verifier.verifyRequest(
      { method: 'GET', url: 'http://api.example.com/orders', headers: { 'x-api-key': key } },
      { schemes: ['api-key'] },
    );

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer({ env: SERVER_ENV }), startServer({ env: SERVER_ENV })]);
    partner = await createPartner(a);
    throughA = createVerifier({ issuer: a.issuer, audience: partner.api.identifier });
    throughB = createVerifier({ issuer: b.issuer, audience: partner.api.identifier });
  });

  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('a key revoked on one instance is refused through the other within 5 seconds', async () => {
    const key = await issueKey(a, partner);
    expect(await verify(throughB, key.key!)).toMatchObject({ key_id: key.id });
    await a.admin('post', `/api-keys/${key.id}/revoke`).expect(200);
    const deadline = Date.now() + 5000;
    let outcome: unknown;
    do {
      outcome = await verify(throughB, key.key!).catch((error: unknown) => error);
      if ((outcome as { status?: number }).status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(outcome).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it("a key's rate limit holds across both API instances and both Tollgate instances together", async () => {
    const key = await issueKey(a, partner, { rate_limit: '4/min' });
    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      const outcome = await verify(index % 2 === 0 ? throughA : throughB, key.key!).then(
        () => 200,
        (error: { status: number }) => error.status,
      );
      statuses.push(outcome);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
