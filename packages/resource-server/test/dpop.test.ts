import { SignJWT, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, MemoryReplayCache, ResourceServerError, type Verifier } from '../src/index.js';
import { AUDIENCE, DPoPKey, TestIssuer, unsignedJwt } from './helpers/issuer.js';

const URL_ = 'https://api.example.com/orders/42';

let issuer: TestIssuer;
let verifier: Verifier;
let holder: DPoPKey;

async function failure(promise: Promise<unknown>): Promise<ResourceServerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ResourceServerError)) throw new Error(`expected a ResourceServerError, got ${String(error)}`);
  return error;
}

/** A bound token, a fresh proof for GET URL_, and the `verify` call a middleware would make. */
async function request(
  overrides: { proof?: string | string[]; method?: string; url?: string; scheme?: string; token?: string } = {},
) {
  const token = overrides.token ?? (await issuer.boundToken(holder));
  const proof = 'proof' in overrides ? overrides.proof : await holder.proof('GET', URL_, token);
  return verifier.verify(`${overrides.scheme ?? 'DPoP'} ${token}`, {
    dpop: { proof, method: overrides.method ?? 'GET', url: overrides.url ?? URL_ },
  });
}

async function expectRefused(
  promise: Promise<unknown>,
  code: 'invalid_token' | 'invalid_dpop_proof',
  description?: RegExp,
) {
  const error = await failure(promise);
  expect(error).toMatchObject({ status: 401, code });
  expect(error.wwwAuthenticate).toMatch(
    new RegExp(`^DPoP error="${code}", error_description="[^"]+", algs="ES256 ES384`),
  );
  if (description) expect(error.description).toMatch(description);
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  holder = await DPoPKey.generate();
});

afterAll(() => issuer.close());

describe('a DPoP-bound token', () => {
  it('with a valid proof: claims, cnf included', async () => {
    const claims = await request();
    expect(claims.cnf).toEqual({ jkt: holder.jkt });
  });

  it('accepts proofs by RSA-PSS and EdDSA keys too', async () => {
    for (const alg of ['PS256', 'EdDSA']) {
      const other = await DPoPKey.generate(alg);
      const token = await issuer.boundToken(other);
      await expect(
        verifier.verify(`DPoP ${token}`, {
          dpop: { proof: await other.proof('GET', URL_, token), method: 'GET', url: URL_ },
        }),
        alg,
      ).resolves.toBeTruthy();
    }
  });

  it('compares htu without query or fragment, after normalisation', async () => {
    const token = await issuer.boundToken(holder);
    const proof = await holder.proof('GET', 'HTTPS://API.example.com:443/orders/42', token);
    await expect(
      verifier.verify(`DPoP ${token}`, { dpop: { proof, method: 'GET', url: `${URL_}?page=2#top` } }),
    ).resolves.toBeTruthy();
  });

  it('without a proof: invalid_token with the DPoP challenge, never a bearer token', async () => {
    const token = await issuer.boundToken(holder);
    await expectRefused(verifier.verify(`DPoP ${token}`), 'invalid_token', /no DPoP proof/);
    await expectRefused(verifier.verify(token), 'invalid_token', /no DPoP proof/);
    await expectRefused(request({ proof: undefined }), 'invalid_token', /no DPoP proof/);
    await expectRefused(request({ proof: '' }), 'invalid_token', /no DPoP proof/);
  });

  it('presented with the Bearer scheme, even with a valid proof (RFC 9449 §7.2)', async () => {
    await expectRefused(request({ scheme: 'Bearer' }), 'invalid_token', /DPoP scheme/);
  });

  it('with a replayed proof', async () => {
    const token = await issuer.boundToken(holder);
    const proof = await holder.proof('GET', URL_, token);
    await expect(request({ token, proof })).resolves.toBeTruthy();
    await expectRefused(request({ token, proof }), 'invalid_dpop_proof', /used before/);
  });

  it('with a stale proof, or one from the future', async () => {
    const token = await issuer.boundToken(holder);
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { iat: now - 120 } }) }),
      'invalid_dpop_proof',
      /stale/,
    );
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { iat: now + 120 } }) }),
      'invalid_dpop_proof',
      /future/,
    );
    await expect(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { iat: now - 50 } }) }),
    ).resolves.toBeTruthy();
  });

  it('honours a configured iat window', async () => {
    const strict = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, dpop: { iatWindow: 5 } });
    const token = await issuer.boundToken(holder);
    const proof = await holder.proof('GET', URL_, token, { claims: { iat: Math.floor(Date.now() / 1000) - 30 } });
    await expect(strict.verify(`DPoP ${token}`, { dpop: { proof, method: 'GET', url: URL_ } })).rejects.toMatchObject({
      code: 'invalid_dpop_proof',
    });
  });

  it('with a proof for another method or URL', async () => {
    await expectRefused(request({ method: 'POST' }), 'invalid_dpop_proof', /method/);
    await expectRefused(request({ url: 'https://api.example.com/orders/43' }), 'invalid_dpop_proof', /URL/);
    await expectRefused(request({ url: 'http://api.example.com/orders/42' }), 'invalid_dpop_proof', /URL/);
  });

  it('with a proof for another access token (ath), or none', async () => {
    const token = await issuer.boundToken(holder);
    const other = await issuer.boundToken(holder);
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, other) }),
      'invalid_dpop_proof',
      /access token/,
    );
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, undefined) }),
      'invalid_dpop_proof',
      /access token/,
    );
  });

  it('with a proof signed by another key (thumbprint mismatch)', async () => {
    const thief = await DPoPKey.generate();
    const token = await issuer.boundToken(holder);
    await expectRefused(
      request({ token, proof: await thief.proof('GET', URL_, token) }),
      'invalid_token',
      /key binding/,
    );
  });

  it('with a proof that is not a dpop+jwt, is unsigned, HMAC-signed, or embeds a private key', async () => {
    const token = await issuer.boundToken(holder);
    const claims = { jti: 'x', htm: 'GET', htu: URL_, iat: Math.floor(Date.now() / 1000) };
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { header: { typ: 'JWT' } }) }),
      'invalid_dpop_proof',
    );
    await expectRefused(
      request({ token, proof: unsignedJwt({ typ: 'dpop+jwt', alg: 'none', jwk: holder.publicJwk }, claims) }),
      'invalid_dpop_proof',
    );
    const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'HS256',
        jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as never,
      })
      .sign(secret);
    await expectRefused(request({ token, proof: hmac }), 'invalid_dpop_proof');
    const privateJwk = await exportJWK(holder.privateKey);
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { header: { jwk: privateJwk } }) }),
      'invalid_dpop_proof',
    );
    await expectRefused(request({ token, proof: 'garbage' }), 'invalid_dpop_proof');
  });

  it('with two DPoP headers', async () => {
    const token = await issuer.boundToken(holder);
    const proof = await holder.proof('GET', URL_, token);
    await expectRefused(request({ token, proof: [proof, proof] }), 'invalid_dpop_proof', /more than one/);
    await expectRefused(request({ token, proof: `${proof}, ${proof}` }), 'invalid_dpop_proof', /more than one/);
  });

  it('with a missing or oversized jti', async () => {
    const token = await issuer.boundToken(holder);
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { jti: undefined } }) }),
      'invalid_dpop_proof',
      /jti/,
    );
    await expectRefused(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { jti: 'x'.repeat(300) } }) }),
      'invalid_dpop_proof',
      /jti/,
    );
  });

  it('a proof that fails is not remembered: the genuine one with the same jti still passes', async () => {
    const token = await issuer.boundToken(holder);
    const thief = await DPoPKey.generate();
    await expectRefused(
      request({ token, proof: await thief.proof('GET', URL_, token, { claims: { jti: 'shared' } }) }),
      'invalid_token',
    );
    await expect(
      request({ token, proof: await holder.proof('GET', URL_, token, { claims: { jti: 'shared' } }) }),
    ).resolves.toBeTruthy();
  });

  it('insufficient scope is 403 with the DPoP challenge, after the proof is checked', async () => {
    const token = await issuer.boundToken(holder, { scope: 'orders:read' });
    const error = await failure(
      verifier.verify(`DPoP ${token}`, {
        scopes: ['orders:write'],
        dpop: { proof: await holder.proof('GET', URL_, token), method: 'GET', url: URL_ },
      }),
    );
    expect(error).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(error.wwwAuthenticate).toMatch(/^DPoP error="insufficient_scope", .*scope="orders:write", algs="/);
    await expectRefused(verifier.verify(`DPoP ${token}`, { scopes: ['orders:write'] }), 'invalid_token');
  });
});

describe('other tokens and the DPoP scheme', () => {
  it('an unbound token sent with the DPoP scheme is refused', async () => {
    const token = await issuer.token();
    await expectRefused(
      verifier.verify(`DPoP ${token}`, {
        dpop: { proof: await holder.proof('GET', URL_, token), method: 'GET', url: URL_ },
      }),
      'invalid_token',
      /not DPoP-bound/,
    );
  });

  it('an unbound bearer token with a stray DPoP header is still a bearer token', async () => {
    const token = await issuer.token();
    await expect(
      verifier.verify(`Bearer ${token}`, { dpop: { proof: 'whatever', method: 'GET', url: URL_ } }),
    ).resolves.toBeTruthy();
  });

  it('a token bound by a confirmation method this library cannot check is refused, even beside a valid jkt', async () => {
    // RFC 7800 jwk/kid, an empty cnf, and a DPoP binding with another method next to it: every
    // method a token names must hold, so the one the library cannot check refuses it.
    const methods = [{ jwk: holder.publicJwk }, { kid: 'k1' }, {}, { jkt: holder.jkt, jwk: holder.publicJwk }];
    for (const cnf of methods) {
      const token = await issuer.token({ cnf });
      await expectRefused(
        verifier.verify(`DPoP ${token}`, {
          dpop: { proof: await holder.proof('GET', URL_, token), method: 'GET', url: URL_ },
        }),
        'invalid_token',
        /confirmation method/,
      );
      await expect(verifier.verify(`Bearer ${token}`), JSON.stringify(cnf)).rejects.toMatchObject({
        status: 401,
        code: 'invalid_token',
      });
    }
  });

  it('restricts proof algorithms to dpop.algorithms and advertises them', async () => {
    const esOnly = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, dpop: { algorithms: ['ES256'] } });
    const pss = await DPoPKey.generate('PS256');
    const token = await issuer.boundToken(pss);
    const error = await failure(
      esOnly.verify(`DPoP ${token}`, {
        dpop: { proof: await pss.proof('GET', URL_, token), method: 'GET', url: URL_ },
      }),
    );
    expect(error.wwwAuthenticate).toMatch(/algs="ES256"$/);
  });
});

describe('MemoryReplayCache', () => {
  it('refuses a key until it expires', async () => {
    const cache = new MemoryReplayCache();
    const soon = Date.now() + 50;
    expect(cache.use('a', soon)).toBe(true);
    expect(cache.use('a', soon)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.use('a', Date.now() + 1000)).toBe(true);
  });

  it('is bounded in size and sweeps expired entries', async () => {
    const cache = new MemoryReplayCache({ maxEntries: 100 });
    for (let i = 0; i < 1000; i += 1) cache.use(`k${i}`, Date.now() + 60_000);
    expect(cache.size).toBe(100);
    const expired = new MemoryReplayCache();
    for (let i = 0; i < 10; i += 1) expired.use(`k${i}`, Date.now() + 10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expired.use('fresh', Date.now() + 60_000);
    expect(expired.size).toBe(1);
  });
});
