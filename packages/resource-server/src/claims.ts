import { errors, type JWTPayload } from 'jose';
import { InsufficientScopeError, InvalidTokenError, ResourceServerError } from './errors.js';

/** The claims of an RFC 9068 access token as Tollgate issues them. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  /** The user (`user_…`) or, for client credentials, the client (`client_…`). */
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** Space-separated granted scopes. */
  scope?: string;
  /** Present on sender-constrained tokens: `jkt` is the DPoP key's RFC 7638 thumbprint. */
  cnf?: { jkt?: string; [method: string]: unknown };
}

/** RFC 9068 §2.2: what every access token carries. */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

const CLAIM_FAILURES: Record<string, string> = {
  typ: 'the token is not an access token (typ must be at+jwt)',
  iss: 'the token was issued by another issuer',
  aud: 'the token is for another audience',
  nbf: 'the token is not valid yet',
  iat: "the token's iat is invalid",
};

/** Turns whatever jose threw into the one answer RFC 6750 has for it: invalid_token. */
export function tokenError(error: unknown): ResourceServerError {
  if (error instanceof ResourceServerError) return error;
  let description = 'the token is malformed';
  if (error instanceof errors.JWTExpired) description = 'the token has expired';
  else if (error instanceof errors.JWTClaimValidationFailed) {
    description =
      error.reason === 'missing'
        ? `the token has no ${error.claim} claim`
        : (CLAIM_FAILURES[error.claim] ?? `the token's ${error.claim} claim is invalid`);
  } else if (error instanceof errors.JOSEAlgNotAllowed) description = "the token's signature algorithm is not accepted";
  else if (error instanceof errors.JWSSignatureVerificationFailed) description = "the token's signature is invalid";
  return new InvalidTokenError(description, { cause: error });
}

/**
 * What jose does not check: `iat` in the future (jose only does with maxTokenAge) and the types
 * of the claims handlers will rely on.
 */
export function checkClaims(payload: JWTPayload, nowSeconds: number, clockTolerance: number): AccessTokenClaims {
  if ((payload.iat as number) > nowSeconds + clockTolerance)
    throw new InvalidTokenError('the token was issued in the future');
  if (typeof payload.sub !== 'string' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') {
    throw new InvalidTokenError("the token's sub, client_id and jti must be strings");
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string')
    throw new InvalidTokenError("the token's scope must be a string");
  return payload as AccessTokenClaims;
}

/** Every required scope must be granted (RFC 6750 §3.1 insufficient_scope otherwise). */
export function checkScopes(granted: string | undefined, required: readonly string[]): void {
  if (required.length === 0) return;
  const scopes = granted === undefined ? [] : granted.split(' ');
  for (const scope of required) {
    if (!scopes.includes(scope)) throw new InsufficientScopeError(required);
  }
}
