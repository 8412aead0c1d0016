import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeComponent, isUtf8Text, unacceptableLine, unacceptableParameter } from '../../src/lib/acceptable-text.js';

/**
 * The one rule for text from outside, without a server. On the wire: test/http/malformed-input.test.ts
 * (public requests) and test/admin/admin-input.test.ts (admin input).
 */

const code = (char: string) => char.codePointAt(0)!;
const isC0OrDel = (char: string) => code(char) <= 0x1f || code(char) === 0x7f;
const isC1 = (char: string) => code(char) >= 0x80 && code(char) <= 0x9f;
const isRequestWhitespace = (char: string) => char === '\t' || char === '\n' || char === '\r';
/** A string that UTF-8 can hold: encoding and decoding gives it back. */
const isWellFormed = (value: string) => Buffer.from(value, 'utf8').toString('utf8') === value;

/** Text near the rule's edges: controls, C1, surrogate halves and pairs, and ordinary letters. */
const edgy = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x00, max: 0xa0 }).map((point) => String.fromCharCode(point)),
    fc.integer({ min: 0xd7ff, max: 0xe000 }).map((point) => String.fromCharCode(point)),
    fc.constantFrom('a', 'é', '😀', '\u2028', '\uFEFF'),
  ),
  maxLength: 12,
});
const anyText = fc.oneof(edgy, fc.string({ unit: 'binary' }), fc.string());

describe('unacceptableParameter (request parameters)', () => {
  it('refuses exactly the C0 controls but TAB, LF and CR, DEL, and lone surrogates', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const chars = [...value];
        const expected = chars.some((char) => isC0OrDel(char) && !isRequestWhitespace(char)) || !isWellFormed(value);
        expect(unacceptableParameter(value) !== undefined, JSON.stringify(value)).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('says why', () => {
    expect(unacceptableParameter('a\u0000b')).toBe('holds a control character');
    expect(unacceptableParameter('\u007f')).toBe('holds a control character');
    expect(unacceptableParameter('\uD800x')).toBe('is not valid UTF-8');
    expect(unacceptableParameter('x\uDC00')).toBe('is not valid UTF-8');
    expect(unacceptableParameter('{\n\t"claims": 1\r\n}')).toBeUndefined();
    expect(unacceptableParameter('😀 \u0085')).toBeUndefined();
  });
});

describe('unacceptableLine (admin fields, identifiers)', () => {
  it('refuses every C0 and C1 control and DEL, whitespace controls included, and lone surrogates', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const expected = [...value].some((char) => isC0OrDel(char) || isC1(char)) || !isWellFormed(value);
        expect(unacceptableLine(value) !== undefined, JSON.stringify(value)).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('is stricter than the parameter rule: a line accepted is a parameter accepted', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        if (unacceptableLine(value) === undefined) expect(unacceptableParameter(value)).toBeUndefined();
      }),
      { numRuns: 1_000 },
    );
    expect(unacceptableLine('two\nlines')).toBe('must not contain control characters');
    expect(unacceptableLine('\uDBFF')).toBe('is not valid UTF-8 (it holds a lone surrogate)');
  });
});

describe('isUtf8Text', () => {
  it('accepts the UTF-8 of any well-formed text, and refuses bytes that are not UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        expect(isUtf8Text(Buffer.from(value, 'utf8'))).toBe(true);
      }),
    );
    for (const bytes of [[0xff], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x61, 0x80]]) {
      expect(isUtf8Text(Buffer.from(bytes)), bytes.join(',')).toBe(false);
    }
  });
});

describe('decodeComponent', () => {
  it('decodes what encodeURIComponent wrote back to the same text, in a form or not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.boolean(), (value, plusIsSpace) => {
        expect(decodeComponent(encodeURIComponent(value), plusIsSpace)).toBe(value);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads + as a space in forms only, and leaves text without escapes as it is', () => {
    fc.assert(
      fc.property(
        fc.string().filter((value) => !value.includes('%')),
        (value) => {
          expect(decodeComponent(value, false)).toBe(value);
          expect(decodeComponent(value, true)).toBe(value.replaceAll('+', ' '));
        },
      ),
    );
    expect(decodeComponent('a+b%2Bc', true)).toBe('a b+c');
    expect(decodeComponent('a+b%2Bc', false)).toBe('a+b+c');
  });

  it('refuses malformed escapes and escapes that spell bytes that are not UTF-8', () => {
    for (const raw of ['%', '%4', '%zz', 'a%E2%82', '%FF', '%C0%AF', '%ED%A0%80']) {
      expect(decodeComponent(raw, true), raw).toBeUndefined();
    }
  });
});
