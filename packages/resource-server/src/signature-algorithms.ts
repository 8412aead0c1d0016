import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  KeyObject,
  sign,
  timingSafeEqual,
  verify,
  type JsonWebKey,
} from 'node:crypto';

/**
 * The RFC 9421 §6.2.2 algorithms Tollgate accepts for signed requests (the contract's list). The
 * registry's `rsa-v1_5-sha256` and `ecdsa-p384-sha384` are left out on purpose: a partner key is
 * Ed25519, P-256 or RSA, and RSA signs with PSS.
 */
export const SIGNATURE_ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256'] as const;

export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** A private or public key as a partner has it: a KeyObject, PEM text or a JWK. */
export type AsymmetricKeyInput = KeyObject | string | JsonWebKey;

/** An HMAC secret: its bytes, a string (used as its UTF-8 bytes, exactly as printed) or a secret KeyObject. */
export type SecretKeyInput = KeyObject | string | Uint8Array;

/** HMAC keys shorter than the hash output weaken it (RFC 2104 §3); 32 bytes is SHA-256's. */
const MIN_HMAC_KEY_BYTES = 32;
/** The contract's floor for RSA keys. */
const MIN_RSA_BITS = 2048;
/** RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1 SHA-512 and a 64-byte salt. */
const PSS_SALT_LENGTH = 64;

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}

function asymmetricKey(alg: SignatureAlgorithm, input: AsymmetricKeyInput, kind: 'private' | 'public'): KeyObject {
  let key: KeyObject;
  if (input instanceof KeyObject) {
    key = input;
  } else if (typeof input === 'string') {
    key = kind === 'private' ? createPrivateKey(input) : createPublicKey(input);
  } else if (typeof input === 'object' && input !== null) {
    key =
      kind === 'private'
        ? createPrivateKey({ key: input, format: 'jwk' })
        : createPublicKey({ key: input, format: 'jwk' });
  } else {
    throw new TypeError('the key must be a KeyObject, PEM text or a JWK');
  }
  if (kind === 'private' && key.type !== 'private') throw new TypeError('signing needs the private key');
  // A private key verifies too (its public half): convenient for tests and for a partner checking itself.
  if (kind === 'public' && key.type === 'private') key = createPublicKey(key);
  if (key.type === 'secret') throw new TypeError(`${alg} needs an asymmetric key, not a secret`);
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType;
  const fits =
    alg === 'ed25519'
      ? type === 'ed25519'
      : alg === 'ecdsa-p256-sha256'
        ? type === 'ec' && details.namedCurve === 'prime256v1'
        : (type === 'rsa' || type === 'rsa-pss') && (details.modulusLength ?? 0) >= MIN_RSA_BITS;
  if (!fits) {
    const wanted =
      alg === 'ed25519'
        ? 'an Ed25519 key'
        : alg === 'ecdsa-p256-sha256'
          ? 'a P-256 key'
          : `an RSA key of at least ${MIN_RSA_BITS} bits`;
    throw new TypeError(`${alg} needs ${wanted}`);
  }
  return key;
}

function secretKey(input: SecretKeyInput): Buffer {
  let bytes: Buffer;
  if (input instanceof KeyObject) {
    if (input.type !== 'secret') throw new TypeError('hmac-sha256 needs a secret, not an asymmetric key');
    bytes = input.export();
  } else if (typeof input === 'string') {
    bytes = Buffer.from(input, 'utf8');
  } else if (input instanceof Uint8Array) {
    bytes = Buffer.from(input);
  } else {
    throw new TypeError('the HMAC secret must be a string, bytes or a secret KeyObject');
  }
  if (bytes.length < MIN_HMAC_KEY_BYTES)
    throw new TypeError(`the HMAC secret must be at least ${MIN_HMAC_KEY_BYTES} bytes`);
  return bytes;
}

/** Signs `data` per RFC 9421 §3.3 (a programming error in the key is a TypeError). */
export function createSigner(
  alg: SignatureAlgorithm,
  input: AsymmetricKeyInput | SecretKeyInput,
): (data: Buffer) => Buffer {
  switch (alg) {
    case 'hmac-sha256': {
      const key = createSecretKey(secretKey(input as SecretKeyInput));
      return (data) => createHmac('sha256', key).update(data).digest();
    }
    case 'ed25519': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'private');
      return (data) => sign(null, data, key);
    }
    case 'ecdsa-p256-sha256': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'private');
      // §3.3.4: r || s, 32 bytes each, not DER.
      return (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    }
    case 'rsa-pss-sha512': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'private');
      return (data) =>
        sign('sha512', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH });
    }
    default:
      throw new TypeError(`unsupported signature algorithm ${JSON.stringify(alg)}`);
  }
}

/** What a verifier needs of a key: its algorithm and a check of a signature over the signature base. */
export interface SignatureKey {
  /** The RFC 9421 algorithm the key verifies; a signature whose `alg` names another is refused. */
  alg: SignatureAlgorithm;
  /** True when `signature` is valid over `data` (the signature base); never throws for a bad signature. */
  verify(data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>;
}

/**
 * A key that verifies in this process: a partner's public key (what Tollgate will publish), or an
 * HMAC secret (compared in constant time). Not http-message-signatures' createVerifier: it signs
 * and verifies RSA-PSS with OpenSSL's default salt length rather than RFC 9421's 64 bytes, and it
 * takes any key for any algorithm.
 */
export function localSignatureKey(alg: SignatureAlgorithm, input: AsymmetricKeyInput | SecretKeyInput): SignatureKey {
  let check: (data: Uint8Array, signature: Uint8Array) => boolean;
  switch (alg) {
    case 'hmac-sha256': {
      const key = createSecretKey(secretKey(input as SecretKeyInput));
      check = (data, signature) => {
        const expected = createHmac('sha256', key).update(data).digest();
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      };
      break;
    }
    case 'ed25519': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'public');
      check = (data, signature) => verify(null, data, key, signature);
      break;
    }
    case 'ecdsa-p256-sha256': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'public');
      check = (data, signature) =>
        signature.length === 64 && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      break;
    }
    case 'rsa-pss-sha512': {
      const key = asymmetricKey(alg, input as AsymmetricKeyInput, 'public');
      check = (data, signature) =>
        verify(
          'sha512',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
          signature,
        );
      break;
    }
    default:
      throw new TypeError(`unsupported signature algorithm ${JSON.stringify(alg)}`);
  }
  return {
    alg,
    verify(data, signature) {
      try {
        return check(data, signature);
      } catch {
        // OpenSSL refuses some malformed signatures (wrong length, not an integer) by throwing.
        return false;
      }
    },
  };
}
