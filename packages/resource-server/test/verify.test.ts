import { createPublicKey } from 'node:crypto';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, ResourceServerError, type Verifier, type VerifierOptions } from '../src/index.js';
import { AUDIENCE, signEs256Raw, TestIssuer, unsignedJwt } from './helpers/issuer.js';

let issuer: TestIssuer;
let verifier: Verifier;

function make(options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...options });
}

/** The rejection `verify` produced, asserting it is one of ours. */
async function failure(promise: Promise<unknown>): Promise<ResourceServerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ResourceServerError)) throw new Error(`expected a ResourceServerError, got ${String(error)}`);
  return error;
}

async function expectInvalidToken(promise: Promise<unknown>, description?: RegExp): Promise<ResourceServerError> {
  const error = await failure(promise);
  expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
  expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  if (description) expect(error.description).toMatch(description);
  return error;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = make();
});

afterAll(() => issuer.close());

describe('a valid token', () => {
  it('resolves to its claims, from the Authorization header or bare', async () => {
    const token = await issuer.token();
    const claims = await verifier.verify(`Bearer ${token}`);
    expect(claims).toMatchObject({
      iss: issuer.issuer,
      aud: AUDIENCE,
      sub: 'client_abc',
      client_id: 'client_abc',
      scope: 'orders:read orders:write',
    });
    expect(await verifier.verify(token)).toEqual(claims);
    expect(await verifier.verify(`bearer   ${token}`)).toEqual(claims);
  });

  it('is accepted when aud is an array holding the audience, or when one of several audiences matches', async () => {
    await expect(
      verifier.verify(await issuer.token({ aud: ['https://other.example.com', AUDIENCE] })),
    ).resolves.toBeTruthy();
    const multi = make({ audience: ['https://a.example.com', AUDIENCE] });
    await expect(multi.verify(await issuer.token())).resolves.toBeTruthy();
  });

  it('passes with every required scope, and `verify` can be called unbound', async () => {
    const { verify } = verifier;
    await expect(verify(await issuer.token(), { scopes: ['orders:read', 'orders:write'] })).resolves.toBeTruthy();
  });

  it('verifies RS256, PS256 and EdDSA as well as ES256', async () => {
    for (const alg of ['RS256', 'PS256', 'EdDSA']) {
      const key = await issuer.addKey(alg);
      await expect(make().verify(await issuer.token({}, { key })), alg).resolves.toBeTruthy();
    }
  });

  it('tolerates a little clock skew (clockTolerance)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verifier.verify(await issuer.token({ exp: now - 3 }))).resolves.toBeTruthy();
    await expect(verifier.verify(await issuer.token({ nbf: now + 3, iat: now + 3 }))).resolves.toBeTruthy();
    await expectInvalidToken(make({ clockTolerance: 0 }).verify(await issuer.token({ exp: now - 3 })), /expired/);
  });
});

describe('tokens refused with 401 invalid_token', () => {
  it('wrong audience', async () => {
    await expectInvalidToken(verifier.verify(await issuer.token({ aud: 'https://other.example.com' })), /audience/);
  });

  it('wrong issuer', async () => {
    await expectInvalidToken(verifier.verify(await issuer.token({ iss: 'https://evil.example.com' })), /issuer/);
  });

  it('expired', async () => {
    await expectInvalidToken(
      verifier.verify(await issuer.token({ exp: Math.floor(Date.now() / 1000) - 60 })),
      /expired/,
    );
  });

  it('not yet valid (nbf), or issued in the future (iat)', async () => {
    const later = Math.floor(Date.now() / 1000) + 120;
    await expectInvalidToken(verifier.verify(await issuer.token({ nbf: later })), /not valid yet/);
    await expectInvalidToken(verifier.verify(await issuer.token({ iat: later })), /future/);
  });

  it('older than maxTokenAge when one is set', async () => {
    const token = await issuer.token({ iat: Math.floor(Date.now() / 1000) - 120 });
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    await expectInvalidToken(make({ maxTokenAge: 60 }).verify(token));
  });

  it('wrong or missing typ (an ID token, a plain JWT)', async () => {
    await expectInvalidToken(verifier.verify(await issuer.token({}, { header: { typ: 'JWT' } })), /typ/);
    await expectInvalidToken(verifier.verify(await issuer.token({}, { header: { typ: undefined } })), /typ/);
    await expect(
      verifier.verify(await issuer.token({}, { header: { typ: 'application/at+jwt' } })),
    ).resolves.toBeTruthy();
  });

  it('a required claim missing (RFC 9068 §2.2)', async () => {
    for (const claim of ['exp', 'iat', 'sub', 'client_id', 'jti', 'aud', 'iss']) {
      await expectInvalidToken(
        verifier.verify(await issuer.token({ [claim]: undefined })),
        new RegExp(claim === 'aud' || claim === 'iss' ? claim : `no ${claim}`),
      );
    }
  });

  it('alg none', async () => {
    const claims = issuer.claims();
    for (const alg of ['none', 'None', 'NONE']) {
      await expectInvalidToken(verifier.verify(unsignedJwt({ alg, typ: 'at+jwt', kid: issuer.keys[0]!.kid }, claims)));
    }
  });

  it("HS256 signed with the issuer's public key (key confusion)", async () => {
    const jwk = issuer.keys[0]!.publicJwk;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(jwk))]) {
      const forged = await new SignJWT(issuer.claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid! })
        .sign(secret);
      await expectInvalidToken(verifier.verify(forged), /algorithm/);
    }
  });

  it('an algorithm the key does not declare, even an asymmetric one', async () => {
    const rsa = await issuer.addKey('RS256');
    const verifierWithRsa = make();
    // The same RSA key material, used for PSS instead of the PKCS#1 v1.5 it declares.
    const pssKey = await importJWK({ ...(await exportJWK(rsa.privateKey)), alg: undefined }, 'PS256');
    const pss = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: rsa.kid })
      .sign(pssKey);
    await expectInvalidToken(verifierWithRsa.verify(pss), /does not allow PS256/);
  });

  it('an algorithm left out of the `algorithms` option', async () => {
    await expectInvalidToken(make({ algorithms: ['RS256'] }).verify(await issuer.token()), /algorithm/);
  });

  it('unknown kid', async () => {
    await expectInvalidToken(
      verifier.verify(await issuer.token({}, { header: { kid: 'no-such-kid' } })),
      /does not publish/,
    );
  });

  it('a known kid with a signature by another key', async () => {
    const forger = await issuer.addKey('ES256', { publish: false });
    await expectInvalidToken(
      verifier.verify(await issuer.token({}, { key: forger, header: { kid: issuer.keys[0]!.kid } })),
      /signature/,
    );
  });

  it('tampered payload', async () => {
    const [header, , signature] = (await issuer.token()).split('.');
    const payload = Buffer.from(JSON.stringify(issuer.claims({ scope: 'orders:read orders:write admin' }))).toString(
      'base64url',
    );
    await expectInvalidToken(verifier.verify(`${header}.${payload}.${signature}`), /signature/);
  });

  it('garbage', async () => {
    for (const garbage of [
      'garbage',
      'a.b.c',
      'eyJhbGciOiJFUzI1NiJ9.e30',
      `${Buffer.from('{').toString('base64url')}.e30.AA`,
    ]) {
      await expectInvalidToken(verifier.verify(`Bearer ${garbage}`));
    }
  });

  it("ignores jku, x5u and an embedded jwk: the forger's key is never fetched nor used", async () => {
    const forgerIssuer = await TestIssuer.start();
    try {
      const forger = forgerIssuer.keys[0]!;
      const token = await issuer.token(
        {},
        {
          key: forger,
          header: {
            kid: forger.kid,
            jku: forgerIssuer.jwksUri,
            x5u: `${forgerIssuer.url}/cert.pem`,
            jwk: forger.publicJwk,
          },
        },
      );
      await expectInvalidToken(make().verify(token), /does not publish/);
      expect(forgerIssuer.requests).toEqual({ discovery: 0, jwks: 0 });
    } finally {
      await forgerIssuer.close();
    }
  });

  it('a token carrying a crit header it does not understand', async () => {
    const key = issuer.keys[0]!;
    const token = signEs256Raw(
      { alg: 'ES256', typ: 'at+jwt', kid: key.kid, crit: ['exp-x'], 'exp-x': 1 },
      issuer.claims(),
      key.privateKey,
    );
    await expect(
      verifier.verify(signEs256Raw({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, issuer.claims(), key.privateKey)),
    ).resolves.toBeTruthy();
    await expectInvalidToken(verifier.verify(token));
  });
});

describe('requests without a usable token', () => {
  it('no token: 401 without an error code', async () => {
    for (const input of [undefined, null, '']) {
      const error = await failure(verifier.verify(input));
      expect(error).toMatchObject({ status: 401, code: undefined });
      expect(error.wwwAuthenticate).toMatch(/^Bearer, DPoP algs="ES256 [^"]+"$/);
      expect(error.wwwAuthenticate).not.toMatch(/error=/);
      expect(error.toJSON()).not.toHaveProperty('error');
    }
  });

  it('another scheme (Basic) counts as no token', async () => {
    const error = await failure(verifier.verify('Basic dXNlcjpwYXNz'));
    expect(error).toMatchObject({ status: 401, code: undefined });
  });

  it('a malformed Authorization header: 400 invalid_request', async () => {
    for (const header of ['Bearer', 'Bearer ', 'DPoP', 'Bearer a b', 'Bearer a,b', ' Bearer x', 'Bearer tok"en']) {
      const error = await failure(verifier.verify(header));
      expect(error, header).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_request"/);
    }
  });
});

describe('scopes', () => {
  it('a missing scope: 403 insufficient_scope naming the required scopes', async () => {
    const token = await issuer.token({ scope: 'orders:read' });
    const error = await failure(verifier.verify(token, { scopes: ['orders:read', 'orders:write'] }));
    expect(error).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks a required scope (orders:read orders:write)", scope="orders:read orders:write"',
    );
  });

  it('no scope claim at all, and scope names matched whole, not as prefixes', async () => {
    await expect(
      verifier.verify(await issuer.token({ scope: undefined }), { scopes: ['orders:read'] }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      verifier.verify(await issuer.token({ scope: 'orders:reader' }), { scopes: ['orders:read'] }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('an invalid token is 401 before any scope question', async () => {
    await expect(
      verifier.verify(await issuer.token({ aud: 'x', scope: '' }), { scopes: ['orders:read'] }),
    ).rejects.toMatchObject({ status: 401 });
  });
});

describe('options', () => {
  it('are validated at construction', () => {
    expect(() => createVerifier({ issuer: 'not a url', audience: AUDIENCE })).toThrow(/issuer/);
    expect(() => createVerifier({ issuer: issuer.issuer, audience: [] })).toThrow(/audience/);
    expect(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, algorithms: ['HS256'] })).toThrow(/HS256/);
    expect(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, algorithms: ['none'] })).toThrow(/none/);
    expect(() =>
      createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, dpop: { algorithms: ['HS256'] } }),
    ).toThrow(/HS256/);
    expect(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, cooldown: -1 })).toThrow(/cooldown/);
    expect(() =>
      createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, minCacheAge: 10, maxCacheAge: 5 }),
    ).toThrow(/maxCacheAge/);
  });
});
