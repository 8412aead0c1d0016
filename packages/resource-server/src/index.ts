/**
 * @tollgate/resource-server — validate Tollgate access tokens in an API.
 *
 * ```ts
 * const verifier = createVerifier({ issuer: 'http://localhost:3000', audience: 'https://api.example.com' });
 * const claims = await verifier.verify(authorizationHeader, { scopes: ['orders:read'] });
 * ```
 */
export { createVerifier, Verifier, type VerifyOptions } from './verifier.js';
export type { VerifierOptions } from './options.js';
export type { AccessTokenClaims } from './claims.js';
export type { DPoPRequest } from './dpop.js';
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
  type Scheme,
} from './errors.js';
export { protectKoa, type KoaContextLike, type KoaProtectOptions } from './koa.js';
export {
  protectExpress,
  type ExpressRequestLike,
  type ExpressResponseLike,
  type ExpressProtectOptions,
} from './express.js';
