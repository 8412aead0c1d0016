import { API_KEY_PREFIX } from './api-key-format.js';
import { parseCredentials, type Credentials } from './credentials.js';
import { InvalidRequestError } from './errors.js';
import { readHeader, type HttpRequest } from './request.js';

/** The ways a caller can authenticate to an API, as an API lists them in `schemes`. */
export type RequestScheme = 'bearer' | 'dpop' | 'api-key' | 'signature' | 'mtls';

/** What `schemes` is when an API does not say: what `verify` has always accepted. */
export const DEFAULT_SCHEMES: readonly RequestScheme[] = ['bearer', 'dpop'];

const DEFAULT_SET: ReadonlySet<RequestScheme> = new Set(DEFAULT_SCHEMES);

/** Every scheme of the contract; anything else in `schemes` is a TypeError at the call. */
const SCHEMES: ReadonlySet<string> = new Set<RequestScheme>(['bearer', 'dpop', 'api-key', 'signature', 'mtls']);

/** Checks an API's `schemes` (a programming error is a TypeError at the call, not a 401). */
export function acceptedSchemes(schemes: readonly RequestScheme[] | undefined): ReadonlySet<RequestScheme> {
  if (schemes === undefined) return DEFAULT_SET;
  if (!Array.isArray(schemes) || schemes.length === 0) throw new TypeError('schemes must be a non-empty array');
  for (const scheme of schemes) {
    if (!SCHEMES.has(scheme)) throw new TypeError(`unknown scheme ${JSON.stringify(scheme)}`);
  }
  return new Set(schemes);
}

/** The one credential a request carries, by where it came from. */
export type Credential =
  | { kind: 'api-key'; key: string }
  /** An RFC 9421 signature (`Signature-Input`/`Signature`), checked whole by the signature client. */
  | { kind: 'signature' }
  /** An access token in `Authorization: Bearer|DPoP` (a JWT, or at least not an API key). */
  | { kind: 'access-token'; header: string; credentials: Credentials };

/** A header that must appear at most once: several values are a malformed request. */
function single(value: string | readonly string[] | undefined, name: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value.length > 1) throw new InvalidRequestError(`send one ${name} header`);
  return value[0];
}

/**
 * Finds the credential of the request: an API key in `X-API-Key` (read only when the API accepts
 * API keys: otherwise the header may well be someone else's) or `Authorization: Bearer tgk_…`, or an
 * access token in `Authorization`. Two different credentials are a malformed request (400), never
 * a choice made for the caller.
 */
export function findCredential(request: HttpRequest, accepted: ReadonlySet<RequestScheme>): Credential {
  const header = single(readHeader(request.headers, 'authorization'), 'Authorization');
  let apiKey = accepted.has('api-key') ? single(readHeader(request.headers, 'x-api-key'), 'X-API-Key') : undefined;
  const signature = signatureCredential(request, accepted, header, apiKey);
  if (signature !== undefined) return signature;
  // The fetch API joins repeated headers with ", ", which no key contains.
  if (apiKey?.includes(',')) throw new InvalidRequestError('send one X-API-Key header');
  if (apiKey !== undefined) apiKey = apiKey.trim();
  if (apiKey !== undefined) {
    if (header !== undefined && header !== '' && bearerToken(header) !== apiKey)
      throw new InvalidRequestError('send the API key in X-API-Key or in Authorization, not two credentials');
    return { kind: 'api-key', key: apiKey };
  }
  const credentials = parseCredentials(header);
  if (credentials.scheme === 'Bearer' && credentials.token.startsWith(API_KEY_PREFIX))
    return { kind: 'api-key', key: credentials.token };
  return { kind: 'access-token', header: header!, credentials };
}

/**
 * A signed request, when the API accepts signatures (otherwise `Signature` headers may well be
 * someone else's, as X-API-Key is). The signature authenticates the client by itself: an
 * `Authorization` or `X-API-Key` beside it is a second credential, refused (400) rather than
 * choosing which one says who is calling. With signatures the only scheme an API accepts (besides
 * mtls), an unsigned request goes to the signature check too, which refuses it with Accept-Signature.
 */
function signatureCredential(
  request: HttpRequest,
  accepted: ReadonlySet<RequestScheme>,
  header: string | undefined,
  apiKey: string | undefined,
): Credential | undefined {
  if (!accepted.has('signature')) return undefined;
  const signed =
    readHeader(request.headers, 'signature-input') !== undefined ||
    readHeader(request.headers, 'signature') !== undefined;
  const other = (header !== undefined && header !== '') || apiKey !== undefined;
  if (signed && other)
    throw new InvalidRequestError('a signed request carries no other credential: send no Authorization or X-API-Key');
  if (signed) return { kind: 'signature' };
  const onlySignatures = !accepted.has('bearer') && !accepted.has('dpop') && !accepted.has('api-key');
  return onlySignatures && !other ? { kind: 'signature' } : undefined;
}

/** The token of a `Bearer` header, `undefined` for anything else (another scheme, malformed). */
function bearerToken(header: string): string | undefined {
  try {
    const credentials = parseCredentials(header);
    return credentials.scheme === 'Bearer' ? credentials.token : undefined;
  } catch {
    return undefined;
  }
}
