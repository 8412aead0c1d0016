import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier, KeySetUnavailableError, type Verifier, type VerifierOptions } from '../src/index.js';
import { AUDIENCE, TestIssuer } from './helpers/issuer.js';

let issuer: TestIssuer;

function make(options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...options });
}

beforeEach(async () => {
  issuer = await TestIssuer.start();
});

afterEach(() => issuer.close());

describe('discovery and caching', () => {
  it('finds the JWKS through discovery and fetches it once for many tokens', async () => {
    const verifier = make();
    const token = await issuer.token();
    await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
    for (let i = 0; i < 50; i += 1) await verifier.verify(await issuer.token());
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
    expect(verifier.status()).toMatchObject({ keys: 1, lastError: undefined });
  });

  it('skips discovery when given jwksUri', async () => {
    const verifier = make({ jwksUri: issuer.jwksUri });
    await verifier.verify(await issuer.token());
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 });
  });

  it('refuses a discovery document that names another issuer (mix-up)', async () => {
    issuer.discoveryIssuer = 'https://evil.example.com';
    const error = await make()
      .verify(await issuer.token())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', wwwAuthenticate: undefined });
    expect(issuer.requests.jwks).toBe(0);
  });

  it('honours Cache-Control max-age: refetches once it has passed', async () => {
    issuer.cacheControl = 'public, max-age=1';
    const verifier = make({ minCacheAge: 0 });
    const token = await issuer.token();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(1);
    await sleep(1100);
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(2);
    expect(issuer.requests.discovery).toBe(1);
  });

  it('subtracts the Age header from max-age', async () => {
    issuer.cacheControl = 'max-age=301';
    const verifier = make({ minCacheAge: 0 });
    await verifier.verify(await issuer.token());
    const { fetchedAt, freshUntil } = verifier.status();
    expect(freshUntil - fetchedAt!).toBe(301_000);
  });

  it('bounds max-age: no-store still caches for minCacheAge, a year for maxCacheAge', async () => {
    issuer.cacheControl = 'no-store';
    const verifier = make({ minCacheAge: 2 });
    await verifier.verify(await issuer.token());
    await verifier.verify(await issuer.token());
    expect(issuer.requests.jwks).toBe(1);
    expect(verifier.status().freshUntil - verifier.status().fetchedAt!).toBe(2000);

    issuer.cacheControl = 'max-age=31536000';
    const capped = make({ maxCacheAge: 600 });
    await capped.verify(await issuer.token());
    expect(capped.status().freshUntil - capped.status().fetchedAt!).toBe(600_000);

    issuer.cacheControl = undefined;
    const silent = make();
    await silent.verify(await issuer.token());
    expect(silent.status().freshUntil - silent.status().fetchedAt!).toBe(300_000);
  });
});

describe('unknown kids', () => {
  it('a key published after the last fetch is found by one refetch (rotation)', async () => {
    const verifier = make();
    await verifier.verify(await issuer.token());
    const next = await issuer.addKey('ES256');
    await expect(verifier.verify(await issuer.token({}, { key: next }))).resolves.toBeTruthy();
    expect(issuer.requests.jwks).toBe(2);
  });

  it('1,000 tokens with random unknown kids cost at most one JWKS fetch per cooldown', async () => {
    const verifier = make();
    await verifier.verify(await issuer.token());
    const forged = await Promise.all(
      Array.from({ length: 1000 }, () => issuer.token({}, { header: { kid: randomUUID() } })),
    );
    // Half at once (they share one refetch), half one after another (the cooldown refuses them).
    const concurrent = await Promise.allSettled(forged.slice(0, 500).map((token) => verifier.verify(token)));
    for (const token of forged.slice(500)) await verifier.verify(token).catch(() => undefined);
    expect(
      concurrent.every(
        (result) => result.status === 'rejected' && (result.reason as { code: string }).code === 'invalid_token',
      ),
    ).toBe(true);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('refetches again once the cooldown has passed', async () => {
    const verifier = make({ cooldown: 1 });
    await verifier.verify(await issuer.token());
    const unknown = () => issuer.token({}, { header: { kid: randomUUID() } });
    await verifier.verify(await unknown()).catch(() => undefined);
    await verifier.verify(await unknown()).catch(() => undefined);
    expect(issuer.requests.jwks).toBe(2);
    await sleep(1050);
    await verifier.verify(await unknown()).catch(() => undefined);
    expect(issuer.requests.jwks).toBe(3);
  });
});

describe('an unreachable issuer', () => {
  for (const mode of ['error', 'reset'] as const) {
    it(`after warm-up, keeps verifying from the cache (${mode})`, async () => {
      issuer.cacheControl = 'max-age=1';
      const verifier = make({ minCacheAge: 0 });
      await verifier.refresh();
      issuer.mode = mode;
      await sleep(1100);
      const token = await issuer.token();
      await expect(verifier.verify(token)).resolves.toBeTruthy();
      await expect(verifier.verify(token)).resolves.toBeTruthy();
      expect(verifier.status().lastError).toBeInstanceOf(Error);
    });
  }

  it('stops serving the stale set after maxStale', async () => {
    issuer.cacheControl = 'max-age=1';
    const verifier = make({ minCacheAge: 0, maxStale: 1.5, cooldown: 0 });
    const token = await issuer.token();
    await verifier.verify(token);
    issuer.mode = 'error';
    await sleep(1100);
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    await sleep(1500);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(KeySetUnavailableError);
  });

  it('answers from the stale set at once while the issuer hangs, retrying in the background', async () => {
    issuer.cacheControl = 'max-age=1';
    const verifier = make({ minCacheAge: 0, timeout: 0.3, cooldown: 0 });
    const token = await issuer.token();
    await verifier.verify(token);
    issuer.mode = 'hang';
    await sleep(1100);
    const first = Date.now();
    await expect(verifier.verify(token)).resolves.toBeTruthy(); // waits for the one timed-out fetch
    expect(Date.now() - first).toBeLessThan(2000);
    const second = Date.now();
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    expect(Date.now() - second).toBeLessThan(250);
  });

  it('bounds each fetch with the timeout', async () => {
    issuer.mode = 'hang';
    const verifier = make({ timeout: 0.2 });
    const started = Date.now();
    const error = await verifier.verify(await issuer.token()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect(((error as Error).cause as Error).message).toMatch(/no answer within 200 ms/);
    expect((error as KeySetUnavailableError).toJSON().error_description).not.toMatch(/127\.0\.0\.1/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('at a cold start, answers 503 and retries at most once per cooldown', async () => {
    issuer.mode = 'error';
    const verifier = make({ cooldown: 1 });
    const token = await issuer.token();
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(token)).rejects.toMatchObject({ status: 503 });
    expect(issuer.requests.discovery).toBe(1);
    issuer.mode = 'up';
    await sleep(1050);
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it('refresh() reports failure, for start-up checks', async () => {
    issuer.mode = 'error';
    await expect(make().refresh()).rejects.toBeInstanceOf(KeySetUnavailableError);
  });
});

describe('withdrawn keys', () => {
  it('are dropped as soon as a fetch succeeds', async () => {
    issuer.cacheControl = 'max-age=1';
    const verifier = make({ minCacheAge: 0 });
    const old = issuer.keys[0]!;
    const current = await issuer.addKey('ES256');
    const oldToken = await issuer.token({}, { key: old });
    await expect(verifier.verify(oldToken)).resolves.toBeTruthy();
    issuer.withdraw(old.kid);
    await sleep(1100);
    await expect(verifier.verify(await issuer.token({}, { key: current }))).resolves.toBeTruthy();
    await expect(verifier.verify(oldToken)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('are dropped when the issuer comes back after an outage, even while the stale set was serving', async () => {
    issuer.cacheControl = 'max-age=1';
    const verifier = make({ minCacheAge: 0, cooldown: 0 });
    const old = issuer.keys[0]!;
    const oldToken = await issuer.token({}, { key: old });
    await verifier.verify(oldToken);
    issuer.mode = 'error';
    await sleep(1100);
    await expect(verifier.verify(oldToken)).resolves.toBeTruthy(); // stale, issuer down
    issuer.withdraw(old.kid);
    await issuer.addKey('ES256');
    issuer.mode = 'up';
    await verifier.verify(oldToken).catch(() => undefined); // triggers the background refetch
    await sleep(100);
    await expect(verifier.verify(oldToken)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });
});

describe('hostile key sets', () => {
  it('skips symmetric, private, encryption and undeclared-algorithm-mismatched keys', async () => {
    const hmacKid = randomUUID();
    issuer.extraJwks = [
      { kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid: hmacKid, alg: 'HS256' },
      { ...issuer.keys[0]!.publicJwk, kid: 'enc', use: 'enc' },
      { ...issuer.keys[0]!.publicJwk, kid: 'hs', alg: 'HS256' },
    ];
    const verifier = make();
    await verifier.verify(await issuer.token());
    expect(verifier.status().keys).toBe(1);
  });

  it('accepts a key without alg for the algorithms its type allows, and only those', async () => {
    const bare = await issuer.addKey('ES256', { declareAlg: false });
    const verifier = make();
    await expect(verifier.verify(await issuer.token({}, { key: bare }))).resolves.toBeTruthy();
  });
});
