import { randomBytes } from 'node:crypto';
import { serializeDictionary, type Item, type Parameters } from 'structured-headers';
import { contentDigest, type Body } from './content-digest.js';
import type { RequestHeaders } from './request.js';
import { headerRecord, signatureBase, targetUrl } from './signature-base.js';
import {
  createSigner,
  isSignatureAlgorithm,
  type AsymmetricKeyInput,
  type SecretKeyInput,
  type SignatureAlgorithm,
} from './signature-algorithms.js';

/** The request a partner is about to send. */
export interface RequestToSign {
  /** The HTTP method, e.g. `POST`. */
  method: string;
  /** The absolute URL the request goes to, query included. */
  url: string | URL;
  /** The headers the request will carry (only `Content-Type` is read, to sign it). */
  headers?: RequestHeaders;
  /** The exact bytes of the body, when there is one (a string is sent as UTF-8). */
  body?: Body;
}

export interface SignRequestOptions {
  /** The key's `keyid`, as `tollgate clients add-key` printed it. */
  keyid: string;
  /**
   * The private key (KeyObject, PEM or JWK) for `ed25519`, `ecdsa-p256-sha256` and `rsa-pss-sha512`;
   * the secret for `hmac-sha256` (a string is used as its UTF-8 bytes, exactly as `add-key --hmac` printed it).
   */
  key: AsymmetricKeyInput | SecretKeyInput;
  alg: SignatureAlgorithm;
  /** Default: 128 random bits, base64url. Never reuse one: the API refuses a nonce it has seen. */
  nonce?: string;
  /** The signature's `created` time in seconds since the epoch. Default: now. */
  created?: number;
}

/** The headers to add to the request (a type, not an interface, so that it spreads into any header record). */
export type SignatureHeaders = {
  'Signature-Input': string;
  Signature: string;
  /** Present whenever the request has a body (RFC 9530, SHA-256). */
  'Content-Digest'?: string;
};

/** The label of the one signature signRequest makes. */
const LABEL = 'sig1';
/** What the verifier accepts for `keyid` and `nonce`: printable ASCII (an RFC 8941 string), bounded. */
const PARAMETER = /^[\x20-\x7E]{1,256}$/;

/**
 * Signs a request per RFC 9421 for an API behind Tollgate. Covers `@method` and `@target-uri`
 * and, when there is a body, `content-digest` (whose value this computes) and `content-type`
 * when the request has one: the digest pins the bytes, the content type how the API reads them
 * (JSON or a form, which charset), and a proxy rewriting it would change the request's meaning
 * anyway. Parameters: `created`, `keyid`, `alg`, `nonce`. Returns the headers to add.
 */
export function signRequest(request: RequestToSign, options: SignRequestOptions): SignatureHeaders {
  if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
  const { keyid, key, alg } = options ?? {};
  if (typeof keyid !== 'string' || !PARAMETER.test(keyid))
    throw new TypeError('keyid must be 1 to 256 printable ASCII characters');
  if (!isSignatureAlgorithm(alg))
    throw new TypeError(`alg must be one of ed25519, ecdsa-p256-sha256, rsa-pss-sha512, hmac-sha256`);
  const nonce = options.nonce ?? randomBytes(16).toString('base64url');
  if (typeof nonce !== 'string' || !PARAMETER.test(nonce))
    throw new TypeError('nonce must be 1 to 256 printable ASCII characters');
  const created = options.created ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(created) || created < 0) throw new TypeError('created must be a whole number of seconds');
  if (typeof request.method !== 'string' || request.method === '')
    throw new TypeError('request.method must be a string');
  const url = targetUrl(request.url);
  if (url === undefined) throw new TypeError('request.url must be an absolute http(s) URL');
  if (request.body !== undefined && typeof request.body !== 'string' && !(request.body instanceof Uint8Array))
    throw new TypeError('request.body must be a string or bytes');
  const sign = createSigner(alg, key);

  const headers = headerRecord(request.headers);
  const components: Item[] = [
    ['@method', new Map()],
    ['@target-uri', new Map()],
  ];
  const added: SignatureHeaders = { 'Signature-Input': '', Signature: '' };
  if (request.body !== undefined) {
    const digest = contentDigest(request.body);
    // The digest we send replaces any the caller had set.
    headers['content-digest'] = digest;
    added['Content-Digest'] = digest;
    components.push(['content-digest', new Map()]);
    if (headers['content-type'] !== undefined) components.push(['content-type', new Map()]);
  }
  const parameters: Parameters = new Map<string, string | number>([
    ['created', created],
    ['keyid', keyid],
    ['alg', alg],
    ['nonce', nonce],
  ]);
  const { base, signatureParams } = signatureBase({ method: request.method, url, headers }, components, parameters);
  added['Signature-Input'] = `${LABEL}=${signatureParams}`;
  added.Signature = serializeDictionary(new Map([[LABEL, [sign(Buffer.from(base)), new Map()]]]));
  return added;
}
