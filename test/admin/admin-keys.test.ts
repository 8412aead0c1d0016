import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { allKeys, expectJsonError, type KeyJson } from './admin-helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(() => server?.close());

describe('signing keys', () => {
  const ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
  const PRIVATE_MEMBERS = [
    'd',
    'p',
    'q',
    'dp',
    'dq',
    'qi',
    'k',
    'oth',
    'private_jwk',
    'private_key',
    'privateJwk',
    'private_jwk_sealed',
  ];

  it('lists exactly one current and one next key per algorithm, without private material', async () => {
    const response = await server.admin('get', '/keys');
    expect(response.status).toBe(200);
    const keys = response.body as KeyJson[];
    expect(Array.isArray(keys)).toBe(true);
    for (const alg of ALGS) {
      const ofAlg = keys.filter((key) => key.alg === alg);
      expect(
        ofAlg.filter((key) => key.state === 'current'),
        alg,
      ).toHaveLength(1);
      expect(
        ofAlg.filter((key) => key.state === 'next'),
        alg,
      ).toHaveLength(1);
    }
    for (const key of keys) {
      expect(key.kid).toEqual(expect.any(String));
      expect(ALGS).toContain(key.alg);
      expect(['current', 'next', 'previous']).toContain(key.state);
      expect(Number.isNaN(Date.parse(key.created_at))).toBe(false);
    }
    expect(new Set(keys.map((key) => key.kid)).size).toBe(keys.length);
    const keyNames = allKeys(keys);
    for (const member of PRIVATE_MEMBERS) expect(keyNames).not.toContain(member);
    expect(JSON.stringify(keys)).not.toMatch(/PRIVATE KEY/);
  });

  it('publishes every listed key in the public JWKS, without private members', async () => {
    const keys = (await server.admin('get', '/keys')).body as KeyJson[];
    const jwksResponse = await server.public().get('/jwks');
    expect(jwksResponse.status).toBe(200);
    const jwks = jwksResponse.body as { keys: Record<string, unknown>[] };
    const published = new Map(jwks.keys.map((jwk) => [jwk.kid, jwk]));
    for (const key of keys) {
      const jwk = published.get(key.kid);
      expect(jwk, `${key.state} ${key.alg} key ${key.kid} missing from the JWKS`).toBeDefined();
      expect(jwk!.alg ?? key.alg).toBe(key.alg);
    }
    for (const jwk of jwks.keys) {
      for (const member of PRIVATE_MEMBERS) expect(Object.keys(jwk)).not.toContain(member);
      expect(['EC', 'RSA', 'OKP']).toContain(jwk.kty);
    }
  });

  it('requires the admin token', async () => {
    const response = await supertest(server.adminUrl).get('/keys');
    expectJsonError(response, 401);
  });
});
