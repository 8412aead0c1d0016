import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN_SOURCE,
  generateApiKey,
  looksLikeApiKey,
  recognisablePrefix,
} from '@tollgate/resource-server/api-key-format';
import { ROOT } from '../cli/cli-helpers.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The regular expression the README gives secret scanners, read from the README itself. */
function readmePattern(): RegExp {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /regular expression[^`]*`(tgk_[^`]+)`/.exec(readme);
  expect(match, 'the README names the API key regular expression in backquotes').not.toBeNull();
  return new RegExp(`^(?:${match![1]})$`);
}

describe('API key format', () => {
  it('every generated key is tgk_ + 49 base62 characters and passes its checksum', () => {
    fc.assert(
      fc.property(fc.integer(), () => {
        const key = generateApiKey();
        expect(key).toMatch(/^tgk_[0-9A-Za-z]{49}$/);
        expect(looksLikeApiKey(key)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keys do not repeat and use the whole alphabet (≥ 256 random bits: 43 uniform base62 characters)', () => {
    const generated = Array.from({ length: 2000 }, generateApiKey);
    expect(new Set(generated).size).toBe(generated.length);
    const seen = new Set(generated.flatMap((key) => [...key.slice(4, 47)]));
    expect(seen.size).toBe(62);
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it('any single changed character fails', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (position, replacement) => {
        const key = generateApiKey();
        const at = position % key.length;
        const alphabet = `${BASE62}_-`;
        const next = alphabet[replacement % alphabet.length]!;
        fc.pre(next !== key[at]);
        const changed = key.slice(0, at) + next + key.slice(at + 1);
        expect(looksLikeApiKey(changed)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('every truncation and every extension fails', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string({ minLength: 1, maxLength: 10 }), fc.boolean(), (cut, extra, before) => {
        const key = generateApiKey();
        expect(looksLikeApiKey(key.slice(0, cut % key.length))).toBe(false);
        expect(looksLikeApiKey(key.slice(cut % key.length || 1))).toBe(false);
        expect(looksLikeApiKey(before ? extra + key : key + extra)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('made-up strings of the right shape fail the checksum nearly always, and non-strings always', () => {
    const shaped = fc.stringMatching(/^tgk_[0-9A-Za-z]{49}$/);
    let passed = 0;
    fc.assert(
      fc.property(shaped, (text) => {
        if (looksLikeApiKey(text)) passed += 1;
      }),
      { numRuns: 5000 },
    );
    // CRC-32 in 6 base62 digits: a random string passes with probability 2^-32.
    expect(passed).toBe(0);
    for (const value of [undefined, null, 42, {}, ['tgk_'], Buffer.from(generateApiKey())])
      expect(looksLikeApiKey(value)).toBe(false);
  });

  it("the README's regular expression matches exactly the strings of a key's shape", () => {
    const documented = readmePattern();
    expect(documented.source).toBe(`^(?:${API_KEY_PATTERN_SOURCE})$`);
    fc.assert(
      fc.property(fc.integer(), () => {
        expect(documented.test(generateApiKey())).toBe(true);
      }),
      { numRuns: 500 },
    );
    // Whatever the regular expression refuses, the key check refuses too; what it accepts is a
    // key's shape (a scanner then checks the checksum, or just reports it).
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^tgk_[0-9A-Za-z_-]{45,52}$/)), (text) => {
        if (!documented.test(text)) expect(looksLikeApiKey(text)).toBe(false);
        else expect(text).toMatch(/^tgk_[0-9A-Za-z]{49}$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('the recognisable prefix is tgk_ and 8 characters', () => {
    const key = generateApiKey();
    expect(recognisablePrefix(key)).toBe(key.slice(0, 12));
    expect(recognisablePrefix(key)).toMatch(/^tgk_[0-9A-Za-z]{8}$/);
  });
});
