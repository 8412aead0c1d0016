import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

interface Jwk {
  kid?: string;
  alg?: string;
  use?: string;
  kty?: string;
  [member: string]: unknown;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

let server: TestServer;
let shortCache: TestServer;
let tenant: TestServer;

beforeAll(async () => {
  [server, shortCache, tenant] = await Promise.all([
    startServer(),
    startServer({ env: { JWKS_MAX_AGE: '42' } }),
    startServer({ issuerPath: '/tenant-a' }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.close(), shortCache?.close(), tenant?.close()]);
});

/** The JWKS the way a client finds it: through discovery. */
async function fetchJwks(target: TestServer) {
  const discovery = await target.public().get('/.well-known/openid-configuration');
  expect(discovery.status).toBe(200);
  const jwksUri = new URL(discovery.body.jwks_uri as string);
  expect(jwksUri.origin + jwksUri.pathname).toBe(`${target.issuer}${jwksUri.pathname}`);
  const response = await target.public().get(jwksUri.pathname);
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/(jwk-set\+)?json/);
  return { response, keys: (response.body as { keys: Jwk[] }).keys };
}

describe('the JWKS', () => {
  it('publishes only public signing keys, each with kid, alg, use and kty', async () => {
    const { keys } = await fetchJwks(server);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.kid, JSON.stringify(key)).toEqual(expect.any(String));
      expect(key.alg, JSON.stringify(key)).toEqual(expect.any(String));
      expect(key.kty, JSON.stringify(key)).toEqual(expect.any(String));
      expect(key.use, JSON.stringify(key)).toBe('sig');
      expect(key.alg).not.toMatch(/^HS/);
      expect(key.kty).not.toBe('oct');
      for (const member of PRIVATE_MEMBERS) expect(key, `${key.kid} exposes "${member}"`).not.toHaveProperty(member);
    }
    expect(new Set(keys.map((key) => key.kid)).size).toBe(keys.length);
  });

  it('publishes a key for every signing algorithm an API may choose', async () => {
    const { keys } = await fetchJwks(server);
    expect(new Set(keys.map((key) => key.alg))).toEqual(new Set(['ES256', 'RS256', 'PS256', 'EdDSA']));
  });

  it('publishes exactly the keys of the ring (current, next and previous)', async () => {
    const { keys } = await fetchJwks(server);
    const ring = await server.admin('get', '/keys');
    expect(ring.status).toBe(200);
    const ringKids = (ring.body as { kid: string }[]).map((key) => key.kid);
    expect(keys.map((key) => key.kid).sort()).toEqual([...ringKids].sort());
  });

  it('may be cached for 300 seconds by default', async () => {
    const { response } = await fetchJwks(server);
    expect(response.headers['cache-control']).toBe('public, max-age=300');
  });

  it('follows JWKS_MAX_AGE', async () => {
    const { response } = await fetchJwks(shortCache);
    expect(response.headers['cache-control']).toBe('public, max-age=42');
  });

  it('under an issuer with a path, is cached and revalidated the same way', async () => {
    const discovery = await tenant.public().get('/tenant-a/.well-known/openid-configuration');
    expect(discovery.body.jwks_uri).toBe(`${tenant.issuer}/jwks`);
    const response = await tenant.public().get('/tenant-a/jwks');
    expect(response.status).toBe(200);
    expect(response.body.keys.length).toBeGreaterThan(0);
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    expect(response.headers.etag).toBeTruthy();
    const again = await tenant.public().get('/tenant-a/jwks').set('If-None-Match', response.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('is the same whatever Host the request came in on', async () => {
    const { keys } = await fetchJwks(server);
    const discovery = await server.public().get('/.well-known/openid-configuration');
    const spoofed = await server
      .public()
      .get(new URL(discovery.body.jwks_uri as string).pathname)
      .set('Host', 'evil.example');
    expect(spoofed.status).toBe(200);
    expect(spoofed.body.keys).toEqual(keys);
  });
});
