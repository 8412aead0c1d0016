import { constants, createHash, createHmac, sign, verify, type KeyObject } from 'node:crypto';

/**
 * An RFC 9421 signer and verifier that share nothing with the library: the signature base is
 * written out by hand (§2.5: one `"name": value` line per covered component, then
 * `"@signature-params"`, joined by LF, no trailing newline) and signed with node:crypto per §3.3.
 * What the library builds with http-message-signatures must agree with this, byte for byte.
 */

/** RFC 9421 Appendix B.1.4, test-key-ed25519. */
export const RFC_ED25519_PRIVATE = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
`;
export const RFC_ED25519_PUBLIC = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
`;
/** RFC 9421 Appendix B.1.2, test-key-rsa-pss (public half). */
export const RFC_RSA_PSS_PUBLIC = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
`;
/** RFC 9421 Appendix B.1.5, test-shared-secret. */
export const RFC_SHARED_SECRET = Buffer.from(
  'uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==',
  'base64',
);

/** RFC 9421 Appendix B.2's test request. */
export const RFC_REQUEST = {
  method: 'POST',
  url: 'https://example.com/foo?param=Value&Pet=dog',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest':
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
  },
  body: '{"hello": "world"}',
};

export type Alg = 'ed25519' | 'ecdsa-p256-sha256' | 'rsa-pss-sha512' | 'hmac-sha256';

/** §3.3: each algorithm's signature over the base. */
export function signBase(alg: Alg, key: KeyObject | Buffer, base: string): Buffer {
  const data = Buffer.from(base, 'utf8');
  switch (alg) {
    case 'ed25519':
      return sign(null, data, key as KeyObject);
    case 'ecdsa-p256-sha256':
      return sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'rsa-pss-sha512':
      return sign('sha512', data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
    case 'hmac-sha256':
      return createHmac('sha256', key as Buffer)
        .update(data)
        .digest();
  }
}

/** §3.3 the other way: whether `signature` is valid over `base`. */
export function verifyBase(alg: Alg, key: KeyObject | Buffer, base: string, signature: Buffer): boolean {
  const data = Buffer.from(base, 'utf8');
  switch (alg) {
    case 'ed25519':
      return verify(null, data, key as KeyObject, signature);
    case 'ecdsa-p256-sha256':
      return verify('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, signature);
    case 'rsa-pss-sha512':
      return verify(
        'sha512',
        data,
        { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
        signature,
      );
    case 'hmac-sha256':
      return createHmac('sha256', key as Buffer)
        .update(data)
        .digest()
        .equals(signature);
  }
}

/** RFC 9530 by hand. */
export function sha256Digest(body: string | Buffer): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

export interface HandSigned {
  headers: Record<string, string>;
  base: string;
  signature: string;
}

/**
 * Signs a request by hand. `components` are [identifier, value] pairs as they go in the base, e.g.
 * `['"@method"', 'POST']`; `params` is the text after the inner list, e.g.
 * `;created=1;keyid="k";nonce="n"`. Returns the Signature-Input and Signature headers.
 */
export function signByHand(
  alg: Alg,
  key: KeyObject | Buffer,
  components: Array<[string, string]>,
  params: string,
  label = 'sig1',
): HandSigned {
  const signatureParams = `(${components.map(([id]) => id).join(' ')})${params}`;
  const base = [...components.map(([id, value]) => `${id}: ${value}`), `"@signature-params": ${signatureParams}`].join(
    '\n',
  );
  const signature = signBase(alg, key, base).toString('base64');
  return {
    headers: { 'signature-input': `${label}=${signatureParams}`, signature: `${label}=:${signature}:` },
    base,
    signature,
  };
}
