import { describe, expect, it } from 'vitest';
import { hashClientSecret, verifyClientSecret } from '../../src/clients/client-secret.js';
import { sha256Base64url, sha256Bytes, sha256Hex } from '../../src/lib/sha256.js';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

describe('SHA-256 → base64url, one helper', () => {
  it('gives the FIPS 180-2 digests, unpadded base64url (RFC 4648 §5)', () => {
    // FIPS 180-2 appendix B.1 ("abc") and the empty message.
    expect(sha256Bytes('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Base64url('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(sha256Base64url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    // A string is hashed as UTF-8, the same as the bytes.
    expect(sha256Base64url('é')).toBe(sha256Base64url(Buffer.from('é', 'utf8')));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('keeps stored client-secret hashes as earlier versions wrote them', () => {
    expect(hashClientSecret('abc')).toBe('sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(verifyClientSecret('abc', 'sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')).toBe(true);
    expect(verifyClientSecret('abd', 'sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')).toBe(false);
  });

  it('is the only place in src/ that hashes with SHA-256 by hand', () => {
    const handWritten = sourceFilesOfSrc()
      .filter(
        ({ file, text }) =>
          file !== 'lib/sha256.ts' && /createHash\(\s*['"]sha256['"]|\bhash\(\s*['"]sha256['"]/.test(text),
      )
      .map(({ file }) => file);
    expect(handWritten).toEqual([]);
  });
});
