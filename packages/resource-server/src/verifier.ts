import { jwtVerify, type JWTVerifyOptions } from 'jose';
import { ApiKeyClient, INVALID_API_KEY, type ApiKeyCaller } from './api-key-client.js';
import { looksLikeApiKey } from './api-key-format.js';
import { verifyCertificateBinding, type ClientCertificate } from './certificate-binding.js';
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
  /** The TLS client certificate, for certificate-bound tokens (RFC 8705): without it such a token is refused. */
  clientCertificate?: ClientCertificate | null;
}

export interface VerifyRequestOptions {
  /** Scopes the caller must all have; 403 insufficient_scope otherwise. */
  scopes?: readonly string[];
  /** How callers may authenticate. Default `['bearer', 'dpop']`. */
  schemes?: readonly RequestScheme[];
}

/** An access token's claims, and which scheme it came with. */
export type AccessTokenCaller = AccessTokenClaims & { scheme: 'bearer' | 'dpop' | 'mtls' };

/** What a bound token's confirmation is checked against; the certificate is read only when one is needed. */
interface Proofs {
  dpop: DPoPRequest | undefined;
  clientCertificate: () => ClientCertificate | null | undefined;
  /** Whether certificate-bound tokens are accepted at all (`verifyRequest` without `mtls`: not). */
  mtls: boolean;
}

/** The confirmation methods (RFC 7800 `cnf` members) this library checks; any other one refuses the token. */
const CONFIRMATION_METHODS = new Set(['jkt', 'x5t#S256']);

/** The scheme a verified token came in with: how it is bound, if it is. */
function tokenScheme(claims: AccessTokenClaims): AccessTokenCaller['scheme'] {
  if (claims.cnf?.jkt !== undefined) return 'dpop';
  return claims.cnf?.['x5t#S256'] === undefined ? 'bearer' : 'mtls';
}

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
   * with the `DPoP` proof read from the headers, `mtls` for a certificate-bound token, checked
   * against `request.clientCertificate`), an API key (`X-API-Key: tgk_…` or
   * `Authorization: Bearer tgk_…`) or an RFC 9421 signature (`signature`: `request.body` must be
   * the body's bytes, when it has one). Resolves to the caller; rejects with a
   * {@link ResourceServerError}, or a TypeError for `schemes` outside the contract.
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
      if (!accepted.has('bearer') && !accepted.has('dpop') && !accepted.has('mtls')) {
        if (!accepted.has('api-key'))
          throw new InvalidSignatureError('access tokens are not accepted here: sign the request');
        throw new InvalidTokenError('access tokens are not accepted here: send an API key');
      }
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      throw error.withChallenge({ scheme: 'Bearer', dpopAlgorithms: this.#options.dpop.algorithms });
    }
    const proof = readHeader(request.headers, 'dpop');
    const claims = await this.#verifyToken(credential.header, undefined, {
      dpop: proof === undefined ? undefined : { proof, method: request.method, url: request.url },
      // A getter's work (the middleware's socket or header) is done only for a certificate-bound token.
      clientCertificate: () => request.clientCertificate,
      mtls: accepted.has('mtls'),
    });
    const scheme = tokenScheme(claims);
    try {
      if (!accepted.has(scheme)) throw new InvalidTokenError(notAccepted(scheme, accepted));
      if (options.scopes !== undefined) checkScopes(claims.scope, options.scopes);
    } catch (error) {
      // A DPoP challenge when DPoP is what the client must do next; a certificate-bound token goes as Bearer.
      const dpop = scheme === 'dpop' || (!accepted.has('bearer') && !accepted.has('mtls'));
      throw (error as ResourceServerError).withChallenge({
        scheme: dpop ? 'DPoP' : 'Bearer',
        dpopAlgorithms: this.#options.dpop.algorithms,
      });
    }
    return { ...claims, scheme };
  }

  /**
   * Resolves to the token's claims, or rejects with a {@link ResourceServerError} carrying `status`,
   * `code` and `wwwAuthenticate`. `tokenOrHeader` is the `Authorization` header value (`Bearer …`
   * or `DPoP …`) or the bare token. A bound token is accepted only with what proves its binding:
   * `dpop` for a DPoP-bound one, `clientCertificate` for a certificate-bound one.
   */
  verify(tokenOrHeader: string | null | undefined, options: VerifyOptions = {}): Promise<AccessTokenClaims> {
    return this.#verifyToken(tokenOrHeader, options.scopes, {
      dpop: options.dpop,
      clientCertificate: () => options.clientCertificate,
      mtls: true,
    });
  }

  async #verifyToken(
    tokenOrHeader: string | null | undefined,
    scopes: readonly string[] | undefined,
    proofs: Proofs,
  ): Promise<AccessTokenClaims> {
    let scheme: Scheme | undefined;
    let dpopBound = false;
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
      const now = Date.now() / 1000;
      const claims = checkClaims(payload, now, this.#options.clockTolerance);
      if (claims.cnf !== undefined) {
        dpopBound = claims.cnf?.jkt !== undefined;
        await this.#verifyBinding(claims.cnf, credentials.token, scheme, proofs, now);
      } else if (scheme === 'DPoP') {
        throw new InvalidTokenError('the token is not DPoP-bound: send it with the Bearer scheme');
      }
      if (scopes !== undefined) checkScopes(claims.scope, scopes);
      return claims;
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      // DPoP challenges whenever DPoP is what the client must do next (RFC 9449 §7.1).
      const dpop = dpopBound || scheme === 'DPoP' || error instanceof InvalidDPoPProofError;
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

  /**
   * The one place a bound token's confirmation (`cnf`, RFC 7800) is checked, for `verify` and
   * `verifyRequest` alike. Every method the token names must hold; one this library cannot check
   * refuses the token rather than being skipped, so a bound token is never accepted as a bearer token.
   */
  async #verifyBinding(
    cnf: unknown,
    token: string,
    scheme: Scheme | undefined,
    proofs: Proofs,
    nowSeconds: number,
  ): Promise<void> {
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
      throw new InvalidTokenError("the token's cnf claim is malformed");
    const methods = Object.keys(cnf);
    if (methods.length === 0 || methods.some((method) => !CONFIRMATION_METHODS.has(method)))
      throw new InvalidTokenError('the token is bound by a confirmation method this API cannot check');
    const { jkt, 'x5t#S256': x5t } = cnf as Record<string, unknown>;
    if ((jkt !== undefined && !nonEmptyString(jkt)) || (x5t !== undefined && !nonEmptyString(x5t)))
      throw new InvalidTokenError("the token's cnf claim is malformed");

    // RFC 8705 §3: first, since it costs nothing a replay could exploit (the DPoP proof's jti is spent below).
    if (x5t !== undefined) {
      if (!proofs.mtls) throw new InvalidTokenError('a certificate-bound token is not accepted here');
      if (jkt === undefined && scheme === 'DPoP')
        throw new InvalidTokenError('the token is not DPoP-bound: send it with the Bearer scheme');
      const certificate = proofs.clientCertificate();
      if (certificate === undefined || certificate === null)
        throw new InvalidTokenError('the token is certificate-bound and the request has no client certificate');
      verifyCertificateBinding(certificate, x5t, nowSeconds, this.#options.clockTolerance);
    }
    if (jkt !== undefined) {
      // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused, proof or not.
      if (scheme === 'Bearer')
        throw new InvalidTokenError('the token is DPoP-bound: send it with the DPoP scheme and a DPoP proof');
      if (proofs.dpop === undefined)
        throw new InvalidTokenError('the token is DPoP-bound and the request has no DPoP proof');
      await verifyDPoPProof(proofs.dpop, token, jkt, this.#options.dpop);
    }
  }
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Why a verified token is refused by an API that does not list its scheme, and what to use instead. */
function notAccepted(scheme: AccessTokenCaller['scheme'], accepted: ReadonlySet<RequestScheme>): string {
  if (scheme === 'dpop') return 'a DPoP-bound token is not accepted here';
  if (scheme === 'mtls') return 'a certificate-bound token is not accepted here';
  const bound = [
    ...(accepted.has('dpop') ? ['a DPoP-bound token'] : []),
    ...(accepted.has('mtls') ? ['a certificate-bound token (RFC 8705)'] : []),
  ];
  return `a bearer token is not accepted here: use ${bound.join(' or ')}`;
}

/** Creates the verifier for one API: `createVerifier({ issuer, audience })`. */
export function createVerifier(options: VerifierOptions): Verifier {
  return new Verifier(options);
}
