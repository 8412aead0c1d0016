import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RESERVED_SCOPES, isReservedScope, isScopeToken } from '../../src/lib/scope-names.js';

/**
 * Which names an API's scopes may have, without a server: RFC 6749 §3.3's scope-token, and never
 * one of OpenID Connect's own. Through the admin API: test/admin/admin-api.test.ts.
 */

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
function isScopeTokenChar(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code === 0x21 || (code >= 0x23 && code <= 0x5b) || (code >= 0x5d && code <= 0x7e);
}

describe('isScopeToken', () => {
  it('accepts exactly RFC 6749 §3.3 scope-tokens of at most 128 characters', () => {
    const near = fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0x00, max: 0x80 }).map((code) => String.fromCharCode(code)),
        fc.constantFrom('é', '\u2028', '😀'),
      ),
      maxLength: 140,
    });
    fc.assert(
      fc.property(fc.oneof(near, fc.string()), (scope) => {
        const expected = scope.length >= 1 && scope.length <= 128 && [...scope].every(isScopeTokenChar);
        expect(isScopeToken(scope), JSON.stringify(scope)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['read:ledger', true],
    ['ledger.write', true],
    ['https://api.example.com/read', true],
    ['!#$%&()*+,-./', true],
    ['', false],
    ['read ledger', false],
    ['say"hi"', false],
    ['back\\slash', false],
    ['tab\there', false],
    ['caf\u00e9', false],
  ])('%j: %s', (scope, expected) => {
    expect(isScopeToken(scope)).toBe(expected);
  });

  it('is 128 characters at most', () => {
    expect(isScopeToken('a'.repeat(128))).toBe(true);
    expect(isScopeToken('a'.repeat(129))).toBe(false);
  });
});

describe('isReservedScope', () => {
  it("is OpenID Connect's own scopes, compared exactly as scope strings are (case-sensitive, RFC 6749 §3.3)", () => {
    expect([...RESERVED_SCOPES]).toEqual(['openid', 'profile', 'email', 'offline_access']);
    for (const scope of RESERVED_SCOPES) {
      expect(isReservedScope(scope), scope).toBe(true);
      expect(isScopeToken(scope), scope).toBe(true);
    }
    for (const scope of ['OpenID', 'openid ', 'profile:read', 'address', 'phone', ''])
      expect(isReservedScope(scope), scope).toBe(false);
  });
});
