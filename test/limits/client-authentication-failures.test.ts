import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createServiceClient, type ClientFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectTooManyRequests, randomIp, rateLimited, tokenRequest } from '../helpers/rate-limits.js';

/**
 * Guessing client secrets: per client address, failed client authentications at the token,
 * introspection and revocation endpoints are limited (CLIENT_AUTH_FAILURE_LIMIT); past it, 429
 * even for the right secret, from that address only. Successes are not counted.
 */
const LIMIT = 3;
const HOUR = 3600;
const WRONG = 'tgs_a-guessed-secret';

describe('failed client authentication', () => {
  let server: TestServer;
  let client: ClientFixture;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: 'true', CLIENT_AUTH_FAILURE_LIMIT: `${LIMIT}/h` } });
    const api = await createApi(server);
    client = await createServiceClient(server, [api.scopes[0]!]);
  });
  afterAll(async () => {
    await server?.close();
  });

  const introspect = (ip: string, secret: string) =>
    server
      .public()
      .post('/token/introspection')
      .set('X-Forwarded-For', ip)
      .auth(client.client_id, secret)
      .type('form')
      .send({ token: 'opaque-token-that-does-not-exist' });
  const revoke = (ip: string, secret: string) =>
    server
      .public()
      .post('/token/revocation')
      .set('X-Forwarded-For', ip)
      .auth(client.client_id, secret)
      .type('form')
      .send({ token: 'opaque-token-that-does-not-exist' });

  it(`blocks an address after ${LIMIT} wrong secrets, the right one included, and not another address`, async () => {
    const guesser = randomIp();
    const before = await rateLimited(server, 'client_auth_failures');
    for (let i = 0; i < LIMIT; i++) {
      const response = await tokenRequest(server, client.client_id, WRONG, guesser);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
    }
    expectTooManyRequests(await tokenRequest(server, client.client_id, client.client_secret, guesser), HOUR);
    expectTooManyRequests(await introspect(guesser, client.client_secret), HOUR);
    expect(await rateLimited(server, 'client_auth_failures')).toBe(before + 2);

    const bystander = randomIp();
    expect((await tokenRequest(server, client.client_id, client.client_secret, bystander)).status).toBe(200);
    expect((await tokenRequest(server, client.client_id, WRONG, bystander)).status).toBe(401);
  });

  it('counts failures at introspection and revocation with those at the token endpoint', async () => {
    const guesser = randomIp();
    expect((await tokenRequest(server, client.client_id, WRONG, guesser)).status).toBe(401);
    expect((await introspect(guesser, WRONG)).status).toBe(401);
    expect((await revoke(guesser, WRONG)).status).toBe(401);
    expectTooManyRequests(await revoke(guesser, client.client_secret), HOUR);
  });

  it('does not count successes, nor requests refused for another reason than the client', async () => {
    const caller = randomIp();
    for (let i = 0; i < LIMIT * 3; i++) {
      expect((await tokenRequest(server, client.client_id, client.client_secret, caller)).status).toBe(200);
      expect((await introspect(caller, client.client_secret)).status).toBe(200);
      const badGrant = await server
        .public()
        .post('/token')
        .set('X-Forwarded-For', caller)
        .auth(client.client_id, client.client_secret)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: 'nope' });
      expect(badGrant.status).toBeGreaterThanOrEqual(400);
      expect(badGrant.status).not.toBe(429);
      expect(badGrant.body.error).not.toBe('invalid_client');
    }
    for (let i = 0; i < LIMIT; i++)
      expect((await tokenRequest(server, client.client_id, WRONG, caller)).status).toBe(401);
    expect((await tokenRequest(server, client.client_id, client.client_secret, caller)).status).toBe(429);
  });

  it('counts unknown client ids as failures too', async () => {
    const guesser = randomIp();
    for (let i = 0; i < LIMIT; i++) {
      const response = await tokenRequest(server, `client_unknown${i}`, WRONG, guesser);
      expect(response.status).toBe(401);
    }
    expect((await tokenRequest(server, client.client_id, client.client_secret, guesser)).status).toBe(429);
  });
});
