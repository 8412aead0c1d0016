import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kekId, open, seal, sealedBy, SealedBoxError } from '../../src/keys/sealed-box.js';

/**
 * The sealed box (AES-256-GCM), without a server: what seal() writes only open() with the same
 * key-encryption key and context reads back, and any change to it is refused. The key ring and the
 * server secrets rely on it (test/keys/key-ring.test.ts, test/oidc/artefacts-at-rest.test.ts).
 */

const aKek = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes));
/** Well-formed text: the box holds UTF-8, which a lone surrogate cannot be. */
const text = fc.string({ unit: 'grapheme', maxLength: 64 });

/** The sealed value with one bit flipped in its iv (part 2), ciphertext (3) or tag (4). */
function flipBit(sealed: string, part: number, position: number): string | undefined {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  if (!bytes.length) return undefined;
  const bit = position % (bytes.length * 8);
  bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7));
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('sealed box (AES-256-GCM)', () => {
  const kek = crypto.randomBytes(32);

  it('round-trips and binds the context', () => {
    const sealed = seal(kek, 'private', 'kid-1');
    expect(sealed).not.toContain('private');
    expect(open([kek], sealed, 'kid-1')).toBe('private');
    expect(() => open([kek], sealed, 'kid-2')).toThrow(SealedBoxError);
  });

  it('detects tampering', () => {
    const sealed = seal(kek, 'private', 'kid-1');
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64url');
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[3] = ciphertext.toString('base64url');
    expect(() => open([kek], parts.join('.'), 'kid-1')).toThrow(/altered/);
  });

  it('opens with a previous key during a rotation, and says which variable to check otherwise', () => {
    const previous = crypto.randomBytes(32);
    const sealed = seal(previous, 'private', 'kid-1');
    expect(open([kek, previous], sealed, 'kid-1')).toBe('private');
    expect(() => open([kek], sealed, 'kid-1')).toThrow(/KEY_ENCRYPTION_KEY/);
  });

  it('any text sealed under a key and context opens with them to the same text, and says which key sealed it', () => {
    fc.assert(
      fc.property(aKek, text, text, (key, plaintext, context) => {
        const sealed = seal(key, plaintext, context);
        expect(sealed).toMatch(/^v1\.[\w-]{11}\.[\w-]{16}\.[\w-]*\.[\w-]{22}$/);
        expect(sealedBy(sealed)).toBe(kekId(key));
        expect(open([key], sealed, context)).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('seals the same text differently each time (a fresh iv), and both open', () => {
    fc.assert(
      fc.property(aKek, text, (key, plaintext) => {
        const first = seal(key, plaintext, 'ctx');
        const second = seal(key, plaintext, 'ctx');
        expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
        expect(open([key], second, 'ctx')).toBe(open([key], first, 'ctx'));
      }),
      { numRuns: 100 },
    );
  });

  it('any one bit flipped in the iv, ciphertext or tag is refused as altered', () => {
    fc.assert(
      fc.property(aKek, text, text, fc.constantFrom(2, 3, 4), fc.nat(), (key, plaintext, context, part, position) => {
        const altered = flipBit(seal(key, plaintext, context), part, position);
        fc.pre(altered !== undefined);
        expect(() => open([key], altered!, context)).toThrow(SealedBoxError);
        expect(() => open([key], altered!, context)).toThrow(/altered or sealed for another record/);
      }),
      { numRuns: 500 },
    );
  });

  it('a value sealed for one context is refused in any other', () => {
    fc.assert(
      fc.property(aKek, text, text, text, (key, plaintext, context, other) => {
        fc.pre(context !== other);
        expect(() => open([key], seal(key, plaintext, context), other)).toThrow(/altered or sealed for another record/);
      }),
      { numRuns: 300 },
    );
  });

  it('a value whose kek id names no configured key is refused without trying one, naming the variables to check', () => {
    fc.assert(
      fc.property(aKek, aKek, text, (key, other, plaintext) => {
        fc.pre(!key.equals(other));
        expect(() => open([other], seal(key, plaintext, 'ctx'), 'ctx')).toThrow(/KEY_ENCRYPTION_KEY_PREVIOUS/);
      }),
      { numRuns: 100 },
    );
  });

  it("a value relabelled with another configured key's id fails authentication under that key", () => {
    const other = crypto.randomBytes(32);
    const parts = seal(kek, 'private', 'kid-1').split('.');
    parts[1] = kekId(other);
    expect(() => open([kek, other], parts.join('.'), 'kid-1')).toThrow(/altered/);
  });

  it.each([
    ['', 'no parts'],
    ['v2.abc.iv.ct.tag', 'another version'],
    ['v1.abc.iv.ct', 'no tag'],
    ['v1..iv.ct.tag', 'no kek id'],
    ['v1.abc..ct.tag', 'no iv'],
  ])('refuses %j (%s) as unrecognised', (sealed) => {
    expect(() => open([kek], sealed, 'ctx')).toThrow(/unrecognised sealed value/);
  });

  it('names a key by 11 characters of its SHA-256, the same for equal keys and different for different ones', () => {
    fc.assert(
      fc.property(aKek, aKek, (key, other) => {
        expect(kekId(key)).toMatch(/^[\w-]{11}$/);
        expect(kekId(Buffer.from(key))).toBe(kekId(key));
        if (!key.equals(other)) expect(kekId(other)).not.toBe(kekId(key));
      }),
      { numRuns: 200 },
    );
    expect(kekId(Buffer.from('abc'))).toBe('ungWv48Bz-p');
  });
});
