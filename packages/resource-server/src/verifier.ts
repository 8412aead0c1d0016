import { jwtVerify, type JWTVerifyOptions } from 'jose';
import { ApiKeyClient, INVALID_API_KEY, type ApiKeyCaller } from './api-key-client.js';
import { looksLikeApiKey } from './api-key-format.js';
import { checkClaims, checkScopes, REQUIRED_CLAIMS, tokenError, type AccessTokenClaims } from './claims.js';
import { parseCredentials } from './credentials.js';
import { verifyDPoPProof, type DPoPRequest } from './dpop.js';
import {
  InvalidDPoPProofError,
  InvalidSignatureError,
  InvalidTokenError,
  ResourceServerError,
  type Scheme,
} from './errors.js';
import { RemoteKeySet, type KeySetStatus } from './key-set.js';
import { resolveOptions, type ResolvedOptions, type VerifierOptions } from './options.js';
import { readHeader, type HttpRequest } from './request.js';
import { acceptedSchemes, findCredential, type RequestScheme } from './schemes.js';
import { SignatureClient, type SignatureCaller } from './signature-client.js';

export interface VerifyOptions {
  /** Scopes the token must all carry; 403 insufficient_scope otherwise. */
  scopes?: readonly string[];
  /** The request, for DPoP-bound tokens: without it such a token is refused. */
  dpop?: DPoPRequest;
}

export interface VerifyRequestOptions {
  /** Scopes the caller must all have; 403 insufficient_scope otherwise. */
  scopes?: readonly string[];
  /** How callers may authenticate. Default `['bearer', 'dpop']`; `mtls` is not supported yet. */
  schemes?: readonly RequestScheme[];
}

/** An access token's claims, and which scheme it came with. */
export type AccessTokenCaller = AccessTokenClaims & { scheme: 'bearer' | 'dpop' };

/** Who called, whichever scheme let them in: `{ scheme, sub, client_id, scope, aud, … }`. */
export type VerifiedCaller = AccessTokenCaller | ApiKeyCaller | SignatureCaller;

/**
 * Validates Tollgate access tokens (RFC 9068) for one API. Create one per API and process: it holds
 * the issuer's key set and the DPoP replay cache.
 */
export class Verifier {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly #options: ResolvedOptions;
  readonly #keys: RemoteKeySet;
  readonly #apiKeys: ApiKeyClient;
  readonly #signatures: SignatureClient;
  /** Built once: the options object jose reads on every call. */
  readonly #jwtOptions: JWTVerifyOptions;

  constructor(options: VerifierOptions) {
    this.#options = resolveOptions(options);
    this.issuer = this.#options.issuer;
    this.audience = this.#options.audience;
    this.#keys = new RemoteKeySet(this.#options.keySet);
    this.#apiKeys = new ApiKeyClient(this.#options.apiKeys);
    this.#signatures = new SignatureClient(this.#options.signatures);
    this.#jwtOptions = {
      issuer: this.#options.issuer,
      audience: this.#options.audience,
      typ: 'at+jwt',
      algorithms: [...this.#options.algorithms],
      clockTolerance: this.#options.clockTolerance,
      requiredClaims: REQUIRED_CLAIMS,
      ...(this.#options.maxTokenAge === undefined ? {} : { maxTokenAge: this.#options.maxTokenAge }),
    };
    this.verify = this.verify.bind(this);
    this.verifyRequest = this.verifyRequest.bind(this);
  }

  /**
   * Authenticates a request by whichever of `schemes` it uses: an access token (`bearer`, `dpop`,
   * with the `DPoP` proof read from the headers), an API key (`X-API-Key: tgk_…` or
   * `Authorization: Bearer tgk_…`) or an RFC 9421 signature (`signature`: `request.body` must be
   * the body's bytes, when it has one). Resolves to the caller; rejects with a
   * {@link ResourceServerError}, or a TypeError for `schemes` this version does not support.
   */
  async verifyRequest(request: HttpRequest, options: VerifyRequestOptions = {}): Promise<VerifiedCaller> {
    const accepted = acceptedSchemes(options.schemes);
    if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
    let credential;
    try {
      credential = findCredential(request, accepted);
      if (credential.kind === 'signature') {
        // Its errors carry their own challenge (`Signature …`, and Accept-Signature), or none (503).
        const caller = await this.#signatures.verify(request);
        if (options.scopes !== undefined) checkScopes(caller.scope, options.scopes);
        return caller;
      }
      if (credential.kind === 'api-key') {
        // An API key is never tried as a JWT, whether the API accepts keys or not.
        if (!accepted.has('api-key') || !looksLikeApiKey(credential.key)) throw new InvalidTokenError(INVALID_API_KEY);
        const caller = await this.#apiKeys.verify(credential.key);
        if (options.scopes !== undefined) checkScopes(caller.scope, options.scopes);
        return caller;
      }
      if (!accepted.has('bearer') && !accepted.has('dpop')) {
        if (!accepted.has('api-key'))
          throw new InvalidSignatureError('access tokens are not accepted here: sign the request');
        throw new InvalidTokenError('access tokens are not accepted here: send an API key');
      }
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      throw error.withChallenge({ scheme: 'Bearer', dpopAlgorithms: this.#options.dpop.algorithms });
    }
    const proof = readHeader(request.headers, 'dpop');
    const claims = await this.verify(credential.header, {
      dpop: proof === undefined ? undefined : { proof, method: request.method, url: request.url },
    });
    const scheme = claims.cnf === undefined ? 'bearer' : 'dpop';
    try {
      if (!accepted.has(scheme))
        throw new InvalidTokenError(
          scheme === 'bearer'
            ? 'a bearer token is not accepted here: use a DPoP-bound token'
            : 'a DPoP-bound token is not accepted here',
        );
      if (options.scopes !== undefined) checkScopes(claims.scope, options.scopes);
    } catch (error) {
      const challenge = scheme === 'dpop' || !accepted.has('bearer') ? 'DPoP' : 'Bearer';
      throw (error as ResourceServerError).withChallenge({
        scheme: challenge,
        dpopAlgorithms: this.#options.dpop.algorithms,
      });
    }
    return { ...claims, scheme };
  }

  /**
   * Resolves to the token's claims, or rejects with a {@link ResourceServerError} carrying `status`,
   * `code` and `wwwAuthenticate`. `tokenOrHeader` is the `Authorization` header value (`Bearer …`
   * or `DPoP …`) or the bare token.
   */
  async verify(tokenOrHeader: string | null | undefined, options: VerifyOptions = {}): Promise<AccessTokenClaims> {
    let scheme: Scheme | undefined;
    let bound = false;
    try {
      const credentials = parseCredentials(tokenOrHeader);
      scheme = credentials.scheme;
      // jose does the JWS and JWT work; inlined rather than in a helper to spare an async frame.
      let payload;
      try {
        ({ payload } = await jwtVerify(credentials.token, this.#keys.resolve, this.#jwtOptions));
      } catch (error) {
        throw tokenError(error);
      }
      const claims = checkClaims(payload, Date.now() / 1000, this.#options.clockTolerance);
      if (claims.cnf !== undefined) {
        bound = true;
        await this.#verifyBinding(claims, credentials.token, scheme, options.dpop);
      } else if (scheme === 'DPoP') {
        throw new InvalidTokenError('the token is not DPoP-bound: send it with the Bearer scheme');
      }
      if (options.scopes !== undefined) checkScopes(claims.scope, options.scopes);
      return claims;
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      // DPoP challenges whenever DPoP is what the client must do next (RFC 9449 §7.1).
      const dpop = bound || scheme === 'DPoP' || error instanceof InvalidDPoPProofError;
      throw error.withChallenge({ scheme: dpop ? 'DPoP' : 'Bearer', dpopAlgorithms: this.#options.dpop.algorithms });
    }
  }

  /** Throws the TypeError `verifyRequest` would for these `schemes`: for middleware, at start-up. */
  checkSchemes(schemes: readonly RequestScheme[] | undefined): void {
    acceptedSchemes(schemes);
  }

  /** Fetches discovery and the key set now; rejects with KeySetUnavailableError if it cannot. */
  refresh(): Promise<void> {
    return this.#keys.refresh();
  }

  /** The key set's state: how many keys, when fetched, until when fresh and usable, last error. */
  status(): KeySetStatus {
    return this.#keys.status();
  }

  async #verifyBinding(
    claims: AccessTokenClaims,
    token: string,
    scheme: Scheme | undefined,
    request: DPoPRequest | undefined,
  ): Promise<void> {
    const jkt = claims.cnf?.jkt;
    // Another confirmation method (mTLS x5t#S256, …) cannot be checked here: never fall back to bearer.
    if (typeof jkt !== 'string' || jkt === '')
      throw new InvalidTokenError('the token is bound by a confirmation method this API cannot check');
    // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused, proof or not.
    if (scheme === 'Bearer')
      throw new InvalidTokenError('the token is DPoP-bound: send it with the DPoP scheme and a DPoP proof');
    if (request === undefined) throw new InvalidTokenError('the token is DPoP-bound and the request has no DPoP proof');
    await verifyDPoPProof(request, token, jkt, this.#options.dpop);
  }
}

/** Creates the verifier for one API: `createVerifier({ issuer, audience })`. */
export function createVerifier(options: VerifierOptions): Verifier {
  return new Verifier(options);
}
