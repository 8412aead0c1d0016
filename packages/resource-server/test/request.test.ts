import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, looksLikeApiKey } from '../src/api-key-format.js';
import { createVerifier, ResourceServerError, type RequestScheme, type Verifier } from '../src/index.js';
import { AUDIENCE, TestIssuer } from './helpers/issuer.js';

// verifyRequest's handling of whatever headers arrive, against the stand-in issuer (it has keys and
// discovery, but no API-key verification endpoint, like a Tollgate from before API keys). The
// API-key protocol itself is tested against a real Tollgate in test/api-keys/library*.test.ts.

let issuer: TestIssuer;
let verifier: Verifier;
let calls = 0;

/** The global fetch, counting: a key refused locally must cost no request at all. */
const counting = (input: string | URL, init?: RequestInit) => {
  calls += 1;
  return fetch(input, init);
};

const request = (headers: Record<string, string | string[]> | Headers) => ({
  method: 'GET',
  url: 'http://api.example.com/orders',
  headers,
});
const IMPLEMENTED: RequestScheme[] = ['bearer', 'dpop', 'api-key'];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, fetch: counting, timeout: 1 });
});

afterAll(() => issuer.close());

/** A plain boolean: looksLikeApiKey's type guard would narrow what it refuses to `never`. */
const isKey = (text: string): boolean => looksLikeApiKey(text);

/** Strings that are not keys: anything, tgk_-prefixed anything, and real keys with one character changed. */
const notKeys = fc
  .oneof(
    fc.string(),
    fc
      .string({ unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-') })
      .map((rest) => `tgk_${rest}`),
    fc
      .tuple(
        fc.integer({ min: 0, max: 52 }),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
      )
      .map(([index, character]) => {
        const key = generateApiKey();
        return key.slice(0, index) + character + key.slice(index + 1);
      }),
  )
  .filter((text) => !isKey(text));

describe('API keys refused locally', () => {
  it('any string that is not a valid key is 401 invalid_token (400 if it reads as several) without a request', async () => {
    calls = 0;
    await fc.assert(
      fc.asyncProperty(notKeys, fc.boolean(), async (presented, asBearer) => {
        const bearer = asBearer && presented.startsWith('tgk_') && /^[A-Za-z0-9_]+$/.test(presented);
        const headers: Record<string, string> = bearer
          ? { authorization: `Bearer ${presented}` }
          : { 'x-api-key': presented };
        const error = await verifier.verifyRequest(request(headers), { schemes: ['api-key'] }).catch((e) => e);
        expect(error).toBeInstanceOf(ResourceServerError);
        const expected = presented.includes(',')
          ? { status: 400, code: 'invalid_request' }
          : { status: 401, code: 'invalid_token', description: 'the API key is not valid' };
        expect(error).toMatchObject(expected);
      }),
      { numRuns: 300 },
    );
    expect(calls).toBe(0);
  });

  it('a valid key in X-API-Key is never tried as a token, nor is a tgk_ bearer without api-key among the schemes', async () => {
    calls = 0;
    const key = generateApiKey();
    const error = await verifier.verifyRequest(request({ authorization: `Bearer ${key}` })).catch((e) => e);
    expect(error).toMatchObject({ status: 401, code: 'invalid_token', description: 'the API key is not valid' });
    expect(calls).toBe(0);
  });
});

describe('an issuer without an API-key verification endpoint', () => {
  it('makes a well-formed key a 503 (the key cannot be checked), never a 401', async () => {
    const error = await verifier
      .verifyRequest(request({ 'x-api-key': generateApiKey() }), { schemes: ['api-key'] })
      .catch((e) => e);
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', name: 'IssuerUnavailableError' });
    // Bearer tokens keep working with the same verifier: the discovery document served both.
    const token = await issuer.token();
    expect(await verifier.verifyRequest(request({ authorization: `Bearer ${token}` }))).toMatchObject({
      scheme: 'bearer',
      sub: 'client_abc',
    });
  });
});

describe('any header combination', () => {
  const names = fc.constantFrom('authorization', 'Authorization', 'x-api-key', 'X-API-Key', 'dpop', 'DPoP', 'host');
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('Bearer', 'Bearer ', 'DPoP x', 'Basic abc', `Bearer ${generateApiKey()}`, generateApiKey()),
    notKeys.map((text) => `Bearer ${text}`),
  );
  const record = fc.dictionary(names, fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxKeys: 4 });
  const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) });
  const headers = fc.oneof(
    record,
    fc
      .dictionary(fc.constantFrom('authorization', 'x-api-key', 'dpop'), printable, { maxKeys: 3 })
      .map((entries) => new Headers(Object.entries(entries).map(([name, text]) => [name, text.trim()]))),
  );
  const schemes = fc.option(fc.subarray(IMPLEMENTED, { minLength: 1 }), { nil: undefined });

  it('is answered with a ResourceServerError (400/401/403/503), never a TypeError or another crash', async () => {
    await fc.assert(
      fc.asyncProperty(headers, schemes, async (given, accepted) => {
        const outcome = await verifier
          .verifyRequest(request(given), { schemes: accepted, scopes: ['orders:read'] })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(outcome).toBeInstanceOf(ResourceServerError);
        expect([400, 401, 403, 503]).toContain((outcome as ResourceServerError).status);
      }),
      { numRuns: 300 },
    );
  });
});
