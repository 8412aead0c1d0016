import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateClientSecret, hashClientSecret, verifyClientSecret } from '../../src/clients/client-secret.js';

/**
 * Client secrets, without a server: 256 random bits shown once, stored only as a hash, checked in
 * constant time. At the token endpoint: test/oidc/client-credentials.test.ts.
 */

describe('client secrets', () => {
  it('are tgs_ and 256 random bits in base64url, never the same twice', () => {
    const secrets = Array.from({ length: 200 }, generateClientSecret);
    for (const secret of secrets) expect(secret).toMatch(/^tgs_[A-Za-z0-9_-]{43}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it('are stored as a SHA-256 hash that holds nothing of the secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), (secret) => {
        const stored = hashClientSecret(secret);
        expect(stored).toMatch(/^sha256:[\w-]{43}$/);
        expect(stored.slice('sha256:'.length)).not.toContain(secret);
        expect(hashClientSecret(secret)).toBe(stored);
      }),
    );
  });

  it('verify: the secret hashed, and nothing else, matches its hash', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (secret, other) => {
        const stored = hashClientSecret(secret);
        expect(verifyClientSecret(secret, stored)).toBe(true);
        expect(verifyClientSecret(other, stored)).toBe(other === secret);
      }),
      { numRuns: 500 },
    );
    const secret = generateClientSecret();
    expect(verifyClientSecret(secret.toUpperCase(), hashClientSecret(secret))).toBe(false);
    expect(verifyClientSecret(`${secret} `, hashClientSecret(secret))).toBe(false);
  });

  it('verify: refuses, without throwing, a presented value that is not a string and a stored hash of another form', () => {
    const secret = generateClientSecret();
    const stored = hashClientSecret(secret);
    for (const presented of [undefined, null, 42, [secret], { secret }, Buffer.from(secret)]) {
      expect(verifyClientSecret(presented, stored), String(presented)).toBe(false);
    }
    const digest = stored.slice('sha256:'.length);
    for (const other of [
      undefined,
      '',
      secret,
      digest,
      `SHA256:${digest}`,
      `sha512:${digest}`,
      stored.slice(0, -1),
      `${stored}AA`,
      'sha256:',
    ]) {
      expect(verifyClientSecret(secret, other), String(other)).toBe(false);
    }
  });
});
