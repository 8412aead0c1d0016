import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, verify, type Partner } from './api-key-helpers.js';

// Two instances on one PostgreSQL (the shared test database): a key issued, revoked or rotated
// through one is seen by the other at its next verification, since verification reads the key's
// row every time (only the client and the API catalog are cached, for at most 5 s).
describe.skipIf(!onPostgres)('API keys across two instances', () => {
  let a: TestServer;
  let b: TestServer;
  let partner: Partner;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    partner = await createPartner(a);
  });

  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('a key issued on one instance is valid on the other; revoked there, refused here at once', async () => {
    const key = await issueKey(a, partner);
    expect(await verify(b, key.key!, partner.api.identifier)).toMatchObject({ active: true, key_id: key.id });
    expect((await a.admin('post', `/api-keys/${key.id}/revoke`)).status).toBe(200);
    expect(await verify(b, key.key!, partner.api.identifier)).toEqual({ active: false });
  });

  it("a key's rate limit is one count across both: grants from either add up to the limit, then none", async () => {
    const key = await issueKey(a, partner, { rate_limit: '4/h' });
    const granted = [];
    for (const instance of [a, b, a, b, a, b])
      granted.push((await verify(instance, key.key!, partner.api.identifier)).rate_limit_granted);
    expect(granted).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('a rotation without grace on one instance ends the old key on the other at once', async () => {
    const key = await issueKey(a, partner);
    expect(await verify(b, key.key!, partner.api.identifier)).toMatchObject({ active: true });
    const rotated = (await b.admin('post', `/api-keys/${key.id}/rotate`)).body as { key: string };
    expect(await verify(a, key.key!, partner.api.identifier)).toEqual({ active: false });
    expect(await verify(a, rotated.key, partner.api.identifier)).toMatchObject({ active: true });
  });
});
