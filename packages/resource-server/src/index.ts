/**
 * @tollgate/resource-server — validate Tollgate access tokens in an API, and sign requests to one.
 *
 * ```ts
 * const verifier = createVerifier({ issuer: 'http://localhost:3000', audience: 'https://api.example.com' });
 * const claims = await verifier.verify(authorizationHeader, { scopes: ['orders:read'] });
 * // or, for every scheme an API accepts (API keys included):
 * const caller = await verifier.verifyRequest(request, { scopes: ['orders:read'], schemes: ['bearer', 'api-key'] });
 * // a partner signing a request (RFC 9421): the headers to add
 * const headers = signRequest({ method, url, headers, body }, { keyid, key, alg: 'ed25519' });
 * ```
 */
export {
  createVerifier,
  Verifier,
  type VerifyOptions,
  type VerifyRequestOptions,
  type VerifiedCaller,
  type AccessTokenCaller,
} from './verifier.js';
export type { ApiKeyCaller } from './api-key-client.js';
export type { SignatureCaller, SignatureEvidence } from './signature-client.js';
export type { HttpRequest, RequestHeaders } from './request.js';
export type { ClientCertificate } from './certificate-binding.js';
export { DEFAULT_SCHEMES, type RequestScheme } from './schemes.js';
export { looksLikeApiKey, API_KEY_PATTERN_SOURCE } from './api-key-format.js';
export type { VerifierOptions } from './options.js';
export type { AccessTokenClaims } from './claims.js';
export type { DPoPRequest } from './dpop.js';
export { signRequest, type RequestToSign, type SignRequestOptions, type SignatureHeaders } from './sign-request.js';
export { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from './signature-algorithms.js';
export type { KeySetStatus } from './key-set.js';
export type { Fetch } from './http.js';
export { MemoryReplayCache, type ReplayCache, type MemoryReplayCacheOptions } from './replay-cache.js';
export { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from './algorithms.js';
export {
  ResourceServerError,
  MissingTokenError,
  InvalidRequestError,
  InvalidTokenError,
  InvalidDPoPProofError,
  InsufficientScopeError,
  KeySetUnavailableError,
  RateLimitedError,
  IssuerUnavailableError,
  InvalidSignatureError,
  BodyTooLargeError,
  type RateLimitState,
  type Scheme,
} from './errors.js';
export { protectKoa, type KoaContextLike, type KoaProtectOptions } from './koa.js';
export {
  protectExpress,
  type ExpressRequestLike,
  type ExpressResponseLike,
  type ExpressProtectOptions,
} from './express.js';
