import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startStalledRedis, type StalledRedis } from '../limits/stalled-redis.js';
import {
  ask,
  hmacQuestion,
  newNonce,
  now,
  signaturePaths,
  signingPartner,
  verifications,
  type SigningPartner,
} from './signature-helpers.js';

// The nonce store fails CLOSED, unlike the rate limits beside it: with REDIS_URL naming a port
// where nothing listens, the limits let requests through, but no signature is answered active
// without its nonce recorded — 503 temporarily_unavailable instead.

/** A loopback port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('a nonce store that cannot be reached', () => {
  let server: TestServer;
  let partner: SigningPartner;
  let paths: { lookup: string; verify: string };

  beforeAll(async () => {
    server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` } });
    partner = await signingPartner(server);
    paths = await signaturePaths(server);
  });

  afterAll(() => server?.close());

  it('answers a valid HMAC signature 503 temporarily_unavailable, never active', async () => {
    const before = await verifications(server, 'unavailable');
    const response = await ask(server, paths.verify, hmacQuestion(partner));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(await verifications(server, 'unavailable')).toBe(before + 1);
    expect(server.logs.some((line) => line.includes('recording a signature nonce failed'))).toBe(true);
    expect(server.logs.join('\n')).not.toContain(partner.hmac.secret);
  });

  it("answers a public key's nonce registration 503 too", async () => {
    const response = await ask(server, paths.verify, {
      keyid: partner.ed25519.keyid,
      audience: partner.api.identifier,
      nonce: newNonce(),
      created: String(now()),
    });
    expect(response.status).toBe(503);
  });

  it('still answers what needs no nonce: lookups, and refusals decided before the store', async () => {
    expect(
      (await ask(server, paths.lookup, { keyid: partner.ed25519.keyid, audience: partner.api.identifier })).body,
    ).toMatchObject({
      active: true,
    });
    const bad = await ask(server, paths.verify, { ...hmacQuestion(partner), signature: 'AAAA' });
    expect(bad.status).toBe(200);
    expect(bad.body).toEqual({ active: false });
  });
});

describe('a nonce store that answers too slowly', () => {
  let redis: StalledRedis;
  let server: TestServer;
  let partner: SigningPartner;
  let paths: { lookup: string; verify: string };

  beforeAll(async () => {
    // Connects and becomes ready, then never answers a command: the 500 ms command timeout ends the wait.
    redis = await startStalledRedis();
    server = await startServer({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: unique('tollgate-test-') } });
    partner = await signingPartner(server);
    paths = await signaturePaths(server);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.close();
  });

  it('answers 503 once the command times out, never hangs, never active', async () => {
    // A bound on a hang, not a measure of speed.
    const response = await ask(server, paths.verify, hmacQuestion(partner)).timeout({ deadline: 4000 });
    expect(response.status).toBe(503);
    expect(response.body.error).toBe('temporarily_unavailable');
    // The SET reached Redis and was left unanswered: the store was slow, not away.
    expect(redis.unanswered()).toContain('SET');
  });
});
