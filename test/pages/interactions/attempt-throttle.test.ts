import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  USERNAME_KEPT,
  USERNAME_MAX_DELAY_MS,
  deviceCodeSubjects,
  keyFor,
  passwordSubjects,
  slowDownMs,
  type AttemptKind,
} from '../../../src/pages/interactions/attempt-throttle.js';

/**
 * The throttle's pure rules, without a server: how long a username's sign-in is slowed after
 * failures from anywhere, and what an attempt is counted against. Counting under concurrency and
 * across instances: test/pages/interactions/throttle.test.ts.
 */

const KINDS: AttemptKind[] = ['user', 'ip', 'username', 'device'];
const failures = fc.nat({ max: 10_000 });

describe('slowDownMs', () => {
  it('lets the first 10 failures through undelayed, then starts at 200 ms and doubles', () => {
    expect(Array.from({ length: 16 }, (_, count) => slowDownMs(count))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 400, 800, 1600, 3000, 3000,
    ]);
  });

  it('is never negative and never beyond its cap, whatever the count', () => {
    fc.assert(
      fc.property(failures, (count) => {
        const delay = slowDownMs(count);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(USERNAME_MAX_DELAY_MS);
      }),
    );
  });

  it('never shortens as failures grow, and doubles until the cap once it has begun', () => {
    fc.assert(
      fc.property(failures, failures, (a, b) => {
        const [fewer, more] = a <= b ? [a, b] : [b, a];
        expect(slowDownMs(fewer)).toBeLessThanOrEqual(slowDownMs(more));
        if (slowDownMs(a) > 0) expect(slowDownMs(a + 1)).toBe(Math.min(USERNAME_MAX_DELAY_MS, 2 * slowDownMs(a)));
      }),
    );
  });

  it('reaches the cap within the failures a username key keeps, and the key keeps no more than that', () => {
    // The username key's count includes the attempt being made; the delay is for the earlier ones.
    expect(slowDownMs(USERNAME_KEPT - 1)).toBe(USERNAME_MAX_DELAY_MS);
    expect(slowDownMs(USERNAME_KEPT - 2)).toBeLessThan(USERNAME_MAX_DELAY_MS);
  });
});

describe('what an attempt is counted against', () => {
  it('a password attempt: the username from the address (limited), the address (limited), the username (slowed), in that order', () => {
    expect(passwordSubjects('alice', '203.0.113.7')).toEqual([
      { kind: 'user', value: 'alice|203.0.113.7' },
      { kind: 'ip', value: '203.0.113.7' },
      { kind: 'username', value: 'alice' },
    ]);
    expect(deviceCodeSubjects('203.0.113.7')).toEqual([{ kind: 'device', value: '203.0.113.7' }]);
  });

  it('one username however it is cased or written (NFKC), so a respelling gets no fresh allowance', () => {
    const ip = '198.51.100.4';
    for (const spelling of ['ALICE', 'Alice', '\uFF21\uFF4C\uFF49\uFF43\uFF45']) {
      expect(passwordSubjects(spelling, ip), spelling).toEqual(passwordSubjects('alice', ip));
    }
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@') }),
        (name) => {
          expect(passwordSubjects(name.toUpperCase(), ip)).toEqual(passwordSubjects(name.toLowerCase(), ip));
        },
      ),
    );
    expect(passwordSubjects('alicé', ip)).not.toEqual(passwordSubjects('alice', ip));
  });

  it('stores a subject only as a hash, one row per kind and value', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.constantFrom(...KINDS),
        fc.string(),
        fc.string(),
        (kind, otherKind, value, otherValue) => {
          const key = keyFor({ kind, value });
          expect(key).toMatch(/^[\w-]{43}$/);
          if (value.length > 3) expect(key).not.toContain(value);
          expect(keyFor({ kind, value })).toBe(key);
          if (kind !== otherKind || value !== otherValue)
            expect(keyFor({ kind: otherKind, value: otherValue })).not.toBe(key);
        },
      ),
      { numRuns: 500 },
    );
  });
});
