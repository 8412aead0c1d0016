import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createServiceClient, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * oidc-provider's Client instance is kept per client record (src/oidc/client-instances.ts). The
 * risk of such a cache is a stale client: these look-ups go through the provider the token
 * endpoint uses, right after each admin change on this instance.
 */
let server: TestServer;
let api: ApiFixture;

interface ProviderClient {
  clientId: string;
  clientSecret?: string;
  clientName?: string;
}
const find = (id: string) =>
  (server.tollgate.provider.Client as unknown as { find(id: string): Promise<ProviderClient | undefined> }).find(id);

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
});

afterAll(async () => {
  await server?.close();
});

describe('oidc-provider client instances', () => {
  it('are reused while the client is unchanged', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    const first = await find(client.client_id);
    expect(first?.clientId).toBe(client.client_id);
    expect(await find(client.client_id)).toBe(first);
  });

  it('follow a change at once: a rename, a new secret, a disabled and a deleted client', async () => {
    const client = await createServiceClient(server, [api.scopes[0]!]);
    const before = await find(client.client_id);

    expect((await server.admin('patch', `/clients/${client.client_id}`, { name: 'renamed service' })).status).toBe(200);
    const renamed = await find(client.client_id);
    expect(renamed).not.toBe(before);
    expect(renamed?.clientName).toBe('renamed service');

    expect((await server.admin('post', `/clients/${client.client_id}/rotate-secret`)).status).toBe(200);
    const rotated = await find(client.client_id);
    expect(rotated?.clientSecret).toEqual(expect.any(String));
    expect(rotated?.clientSecret).not.toBe(renamed?.clientSecret);

    expect((await server.admin('patch', `/clients/${client.client_id}`, { disabled: true })).status).toBe(200);
    expect(await find(client.client_id)).toBeUndefined();
    expect((await server.admin('patch', `/clients/${client.client_id}`, { disabled: false })).status).toBe(200);
    expect((await find(client.client_id))?.clientId).toBe(client.client_id);

    expect((await server.admin('delete', `/clients/${client.client_id}`)).status).toBeLessThan(300);
    expect(await find(client.client_id)).toBeUndefined();
  });

  it('answers an unknown or malformed client id as oidc-provider does: no client', async () => {
    expect(await find('client_doesnotexist')).toBeUndefined();
    expect(await find('')).toBeUndefined();
  });
});
