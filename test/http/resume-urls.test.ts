import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createServiceClient } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

// A resume URL (`/auth/:uid`, `/device/:uid`) is only ever reached by a browser coming back from
// an interaction. Called without its session, and with a known client's client_id in the query,
// oidc-provider's error handler used to run a recovery on parameters that did not exist yet and
// answer 500 (the patch's resume-error-recovery, docs/UPGRADING-oidc-provider.md).

let server: TestServer;
let clientId: string;

beforeAll(async () => {
  server = await startServer();
  const api = await createApi(server);
  clientId = (await createServiceClient(server, [api.scopes[0]!])).client_id;
});

afterAll(() => server?.close());

describe('resume URLs without their interaction session', () => {
  it.each([
    ['/auth/x', ''],
    ['/auth/&', ''],
    ['/auth/x', '&redirect_uri=https%3A%2F%2Fevil.example.com%2F&state=s'],
    ['/auth/x', '&response_mode=form_post&response_type=code'],
    ['/device/x', ''],
  ])('%s?client_id=<a known client>%s answers a 4xx page, never a 5xx, and logs no error', async (path, extra) => {
    const before = server.logs.length;
    const response = await server.public().get(`${path}?client_id=${clientId}${extra}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers.location).toBeUndefined();
    const errors = server.logs.slice(before).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });
});
