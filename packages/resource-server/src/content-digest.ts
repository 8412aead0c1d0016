import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { parseDictionary } from 'structured-headers';

/** A body as the library takes it. */
export type Body = string | Uint8Array;

function bytes(body: Body | undefined): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? new Uint8Array(0));
}

/** RFC 9530 §2: the `Content-Digest` value for `body`, with SHA-256 (`sha-256=:…:`). */
export function contentDigest(body: Body | undefined): string {
  return `sha-256=:${hash('sha256', bytes(body), 'base64')}:`;
}

/** Digests this library checks, by their RFC 9530 §5 registry names. */
const CHECKED = { 'sha-256': 'sha256', 'sha-512': 'sha512' } as const;

/**
 * Why a `Content-Digest` does not vouch for `body`, or `undefined` when it does. `sha-256` must be
 * there and match (the contract's algorithm: a digest of another algorithm alone is refused);
 * `sha-512`, when sent alongside, must match too — a sender that includes it vouches for it, and
 * a mismatching one means the message is inconsistent; any other algorithm is ignored, as RFC 9530
 * §2 asks of unknown ones (they are covered by the signature anyway, never trusted by us).
 */
export function contentDigestMismatch(header: string, body: Body | undefined): string | undefined {
  let digests;
  try {
    digests = parseDictionary(header);
  } catch {
    return 'the Content-Digest header is not a valid RFC 9530 dictionary';
  }
  if (!digests.has('sha-256')) return 'the Content-Digest header has no sha-256 digest';
  const data = bytes(body);
  for (const [name, algorithm] of Object.entries(CHECKED)) {
    const member = digests.get(name);
    if (member === undefined) continue;
    const value = member[0];
    if (!(value instanceof ArrayBuffer)) return `the ${name} digest in Content-Digest is not a byte sequence`;
    const expected = createHash(algorithm).update(data).digest();
    const received = new Uint8Array(value);
    // Constant time out of habit: a digest is no secret, but nothing is lost.
    if (received.length !== expected.length || !timingSafeEqual(received, expected))
      return `the body does not match its ${name} Content-Digest`;
  }
  return undefined;
}
