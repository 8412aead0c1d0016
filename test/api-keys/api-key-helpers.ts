import { expect } from 'vitest';
import { createApi, createServiceClient, type ApiFixture, type ClientFixture } from '../helpers/fixtures.js';
import type { TestServer } from '../helpers/server.js';

// What the API key test files share: a partner to issue keys to, and the questions an API asks.

export interface ApiKeyJson {
  id: string;
  key?: string;
  client_id: string;
  name: string | null;
  scopes: string[];
  expires_at: string | null;
  rate_limit: string | null;
  created_at: string;
  last_used_at: string | null;
  prefix: string;
  audience: string[];
  status: string;
  revoked_at: string | null;
  replaced_by: string | null;
  grace_until: string | null;
}

export interface Partner {
  api: ApiFixture;
  client: ClientFixture;
}

/** An API and a client allowed its read scope only. */
export async function createPartner(server: TestServer): Promise<Partner> {
  const api = await createApi(server);
  const client = await createServiceClient(server, [api.scopes[0]!]);
  return { api, client };
}

export async function issueKey(
  server: TestServer,
  partner: Partner,
  fields: Record<string, unknown> = {},
): Promise<ApiKeyJson> {
  const response = await server.admin('post', '/api-keys', {
    client_id: partner.client.client_id,
    scopes: [partner.api.scopes[0]],
    ...fields,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as ApiKeyJson;
}

/** The verification endpoint's path, read from discovery as an API's library would. */
export async function verificationPath(server: TestServer): Promise<string> {
  const response = await server
    .public()
    .get(`${new URL(server.issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const url = (response.body as { api_key_verification_endpoint?: string }).api_key_verification_endpoint;
  expect(url, 'discovery names api_key_verification_endpoint').toEqual(expect.any(String));
  return new URL(url!).pathname;
}

/** Asks the verification endpoint, as a form, whether `token` is valid for `audience`. */
export async function verify(server: TestServer, token: string, audience: string) {
  const response = await server
    .public()
    .post(await verificationPath(server))
    .type('form')
    .send({ token, audience });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body as Record<string, unknown>;
}

/**
 * Waits until `server` answers `token` active for `audience`, asking with consume=0 so that no
 * rate-limit point is spent: an instance learns of an API created on another within 5 s.
 */
export async function untilActive(server: TestServer, token: string, audience: string): Promise<void> {
  const path = await verificationPath(server);
  const deadline = Date.now() + 6000;
  for (;;) {
    const response = await server.public().post(path).type('form').send({ token, audience, consume: '0' });
    if (response.body.active === true) return;
    if (Date.now() > deadline) throw new Error(`${audience} never became active on ${server.issuer}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
