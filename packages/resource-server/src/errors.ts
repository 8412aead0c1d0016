/**
 * Every way a request can fail to be authorized, as classes with a stable `code` (RFC 6750 §3.1,
 * RFC 9449 §7.1), the HTTP `status` to answer with and the `WWW-Authenticate` value to send.
 * Middleware only has to copy these three onto the response.
 */

/** The authentication scheme a challenge is issued for. */
export type Scheme = 'Bearer' | 'DPoP';

/** What a challenge needs besides the error itself; filled in once the request's scheme is known. */
export interface ChallengeContext {
  /** The scheme the token was presented with, or that a bound token must be presented with. */
  scheme: Scheme;
  /** JWS algorithms accepted for DPoP proofs, advertised as `algs` in DPoP challenges. */
  dpopAlgorithms: readonly string[];
}

const DEFAULT_CONTEXT: ChallengeContext = { scheme: 'Bearer', dpopAlgorithms: [] };

/**
 * RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E, so quotes, backslashes
 * and anything outside printable ASCII are replaced rather than escaped.
 */
function quoteSafe(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

function challenge(scheme: Scheme | 'Signature', params: Array<[string, string | undefined]>): string {
  const rendered = params
    .filter((param): param is [string, string] => param[1] !== undefined)
    .map(([name, value]) => `${name}="${quoteSafe(value)}"`);
  return rendered.length === 0 ? scheme : `${scheme} ${rendered.join(', ')}`;
}

/** The base class: `instanceof ResourceServerError` tells an authorization failure from a bug. */
export abstract class ResourceServerError extends Error {
  /** The HTTP status to answer with. */
  abstract readonly status: number;
  /** RFC 6750 / RFC 9449 error code; `undefined` when the request carried no credentials at all. */
  abstract readonly code: string | undefined;
  /** The `WWW-Authenticate` header value to send, or `undefined` when none applies (503). */
  wwwAuthenticate: string | undefined;

  constructor(
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = new.target.name;
    // Subclasses' fields are not initialised yet; they set the real challenge in their constructors.
    this.wwwAuthenticate = undefined;
  }

  /** Recomputes `wwwAuthenticate` for the scheme the request used. */
  withChallenge(context: ChallengeContext): this {
    this.wwwAuthenticate = this.renderChallenge(context);
    return this;
  }

  protected renderChallenge(context: ChallengeContext): string | undefined {
    return challenge(context.scheme, [
      ['error', this.code],
      ['error_description', this.description],
      ...this.extraParams(),
      [
        'algs',
        context.scheme === 'DPoP' && context.dpopAlgorithms.length > 0 ? context.dpopAlgorithms.join(' ') : undefined,
      ],
    ]);
  }

  protected extraParams(): Array<[string, string | undefined]> {
    return [];
  }

  /** The JSON body middleware sends: RFC 6749 §5.2 style, without a code when there is none. */
  toJSON(): { error?: string; error_description: string } {
    return this.code === undefined
      ? { error_description: this.description }
      : { error: this.code, error_description: this.description };
  }
}

/**
 * No credentials for a scheme this library understands. RFC 6750 §3.1: no error code. The challenge
 * offers both schemes (RFC 9449 §7.2), so a DPoP-capable client learns the accepted proof algorithms.
 */
export class MissingTokenError extends ResourceServerError {
  readonly status = 401;
  readonly code = undefined;

  constructor(description = 'an access token is required') {
    super(description);
    this.withChallenge(DEFAULT_CONTEXT);
  }

  protected override renderChallenge(context: ChallengeContext): string {
    const dpop = context.dpopAlgorithms.length > 0 ? `DPoP algs="${context.dpopAlgorithms.join(' ')}"` : 'DPoP';
    return `Bearer, ${dpop}`;
  }
}

/** The request is malformed: e.g. an `Authorization` header with no token or with two. */
export class InvalidRequestError extends ResourceServerError {
  readonly status = 400;
  readonly code = 'invalid_request';

  constructor(description: string) {
    super(description);
    this.withChallenge(DEFAULT_CONTEXT);
  }
}

/** The token is expired, revoked, malformed, for another audience, badly signed or missing its proof. */
export class InvalidTokenError extends ResourceServerError {
  readonly status = 401;
  readonly code = 'invalid_token';

  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.withChallenge(DEFAULT_CONTEXT);
  }
}

/** RFC 9449 §7.1: the DPoP proof that came with a bound token is invalid (stale, replayed, wrong URL…). */
export class InvalidDPoPProofError extends ResourceServerError {
  readonly status = 401;
  readonly code = 'invalid_dpop_proof';

  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.withChallenge({ scheme: 'DPoP', dpopAlgorithms: [] });
  }
}

/**
 * RFC 9421 §5.1: what a request without a body must sign (with a body, `content-digest` too).
 * `created` and `nonce` are booleans there, "include this parameter"; `keyid` is left out, since
 * in Accept-Signature it would name one specific key, and each partner signs with its own.
 */
export const ACCEPT_SIGNATURE = 'sig1=("@method" "@target-uri");created;nonce';
/** The same for a request with a body. */
export const ACCEPT_SIGNATURE_WITH_BODY = 'sig1=("@method" "@target-uri" "content-digest");created;nonce';

/**
 * An RFC 9421 signed request that cannot be accepted: missing, malformed, ambiguous, stale,
 * replayed, by an unknown key, not covering what it must, or simply not verifying. Always 401
 * `invalid_signature` (RFC 6750's codes belong to Bearer; this is our code for this scheme).
 *
 * RFC 9421 registers no authentication scheme; §5 lets a server ask for a signature with
 * `Accept-Signature` instead. So the challenge is `Signature error="invalid_signature", …` (an
 * RFC 9110 §11.6.1 challenge a client that does not sign simply ignores; 401 requires one) and
 * `acceptSignature` is the `Accept-Signature` value to send alongside: the components and
 * parameters a signature must have.
 */
export class InvalidSignatureError extends ResourceServerError {
  readonly status = 401;
  readonly code = 'invalid_signature';

  constructor(
    description: string,
    /** The `Accept-Signature` header value (RFC 9421 §5.1) naming what to sign. */
    readonly acceptSignature: string = ACCEPT_SIGNATURE,
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.withChallenge(DEFAULT_CONTEXT);
  }

  protected override renderChallenge(): string {
    return challenge('Signature', [
      ['error', this.code],
      ['error_description', this.description],
    ]);
  }
}

/** A valid token without every scope the route requires (RFC 6750 §3.1: 403 with `scope`). */
export class InsufficientScopeError extends ResourceServerError {
  readonly status = 403;
  readonly code = 'insufficient_scope';

  constructor(readonly requiredScopes: readonly string[]) {
    super(`the token lacks a required scope (${requiredScopes.join(' ')})`);
    this.withChallenge(DEFAULT_CONTEXT);
  }

  protected override extraParams(): Array<[string, string | undefined]> {
    return [['scope', this.requiredScopes.join(' ')]];
  }
}

/**
 * The issuer's keys could not be fetched and no usable cached copy is left: not the token's fault,
 * so 503 rather than 401 (a 401 would send well-behaved clients into pointless token refreshes).
 */
export class KeySetUnavailableError extends ResourceServerError {
  readonly status = 503;
  readonly code = 'temporarily_unavailable';

  /** The description goes to clients, so it names no internal host: the reason is in `cause`. */
  constructor(cause: unknown) {
    super("the token issuer's signing keys are unavailable; try again later", { cause });
  }

  protected override renderChallenge(): undefined {
    return undefined;
  }
}

/** What a rate-limited API key's limit looks like now, for the IETF RateLimit headers. */
export interface RateLimitState {
  /** Requests allowed per window (the key's `100/min` gives 100). */
  limit: number;
  /** The window, in seconds (`100/min` gives 60). */
  window: number;
  /** Requests left in the current window across every instance, as far as this process knows. */
  remaining?: number;
  /** Seconds until the current window ends. */
  reset?: number;
}

/**
 * The API key has used up its rate limit for this window: 429 with `Retry-After: retryAfter`. Not
 * an authentication failure, so no `WWW-Authenticate`.
 */
export class RateLimitedError extends ResourceServerError {
  readonly status = 429;
  readonly code = 'rate_limited';

  constructor(
    /** Seconds until the window ends and the key may be used again. */
    readonly retryAfter: number,
    readonly rateLimit: RateLimitState,
  ) {
    super(`the API key's rate limit is reached; try again in ${retryAfter} s`);
  }

  protected override renderChallenge(): undefined {
    return undefined;
  }
}

/**
 * Tollgate could not be asked about an API key or a signature's key (unreachable, slow, answering 5xx or refusing to
 * answer more questions for a while): not the caller's fault, so 503 like KeySetUnavailableError,
 * never 401, and nothing of the failure is cached.
 */
export class IssuerUnavailableError extends ResourceServerError {
  readonly status = 503;
  readonly code = 'temporarily_unavailable';

  /** The description goes to clients, so it names no internal host: the reason is in `cause`. */
  constructor(cause: unknown, description = 'the API key cannot be verified now; try again later') {
    super(description, { cause });
  }

  protected override renderChallenge(): undefined {
    return undefined;
  }
}

/**
 * A signed request's body is larger than the middleware reads to check its `Content-Digest`: 413.
 * Not an authentication failure, so no `WWW-Authenticate`.
 */
export class BodyTooLargeError extends ResourceServerError {
  readonly status = 413;
  readonly code = 'invalid_request';

  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }

  protected override renderChallenge(): undefined {
    return undefined;
  }
}
