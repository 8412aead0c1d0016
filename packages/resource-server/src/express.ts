import { clientCertificateReader } from './client-certificate-source.js';
import { InvalidSignatureError, ResourceServerError } from './errors.js';
import { needsBody, rawBody } from './raw-body.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { RequestScheme } from './schemes.js';
import type { Verifier, VerifiedCaller } from './verifier.js';

/**
 * The parts of an Express request the middleware uses. Structural on purpose: this package must
 * not load Express. Written for Express 5, whose `req.host` keeps the port.
 */
export interface ExpressRequestLike {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  /** `http`/`https`; honours X-Forwarded-Proto under `trust proxy`. */
  protocol?: string;
  /** Host and port; honours X-Forwarded-Host under `trust proxy` (Express 5). */
  host?: string;
  originalUrl?: string;
  url?: string;
  /** Node's socket: a TLSSocket's peer certificate is the client certificate, for certificate-bound tokens. */
  socket?: unknown;
  /**
   * A signed request's raw body (Buffer or string), when the app's body parser kept it here (its
   * `verify` option); the middleware puts it here when it reads the body itself.
   */
  rawBody?: unknown;
  // No `auth` member here: other libraries declare their own type for req.auth, and a request
  // carrying theirs must still be accepted. The caller is set on it below.
}

/** The parts of the response it writes: plain `http.ServerResponse` methods. */
export interface ExpressResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export interface ExpressProtectOptions {
  /** Scopes every request must carry (all of them). */
  scopes?: readonly string[];
  /** How callers may authenticate: `bearer`, `dpop`, `api-key`, `signature`, `mtls`. Default bearer and dpop. */
  schemes?: readonly RequestScheme[];
  /** The URL clients call, for DPoP `htu`, when Express cannot see it (Express 4, path rewrites). */
  requestUrl?: (req: ExpressRequestLike) => string;
  /**
   * Behind a TLS-terminating proxy: the header in which the proxy passes the client certificate
   * (RFC 9440, e.g. `client-cert`), read instead of the TLS socket. Only for a proxy that sets it on
   * every request and removes any the client sent.
   */
  clientCertificateHeader?: string;
}

function defaultRequestUrl(req: ExpressRequestLike): string {
  const host = req.host ?? req.headers.host;
  return `${req.protocol ?? 'http'}://${String(host)}${req.originalUrl ?? req.url ?? '/'}`;
}

/**
 * Express middleware: authenticates the request by one of `schemes`, puts the caller on
 * `req.auth`, and answers 400/401/403/429/503 itself with `WWW-Authenticate` and a JSON body.
 * With `mtls` in `schemes`, a certificate-bound token is checked against the TLS socket's peer
 * certificate (or the `clientCertificateHeader` a proxy sets).
 * A rate-limited API key gets the RateLimit headers on every response. With `signature` in
 * `schemes`, a signed request's body is read (at most 1 MiB, else 413) unless the app kept it on
 * `req.rawBody`, and left there for the handlers; a refused signature gets `Accept-Signature`.
 */
export function protectExpress(verifier: Verifier, options: ExpressProtectOptions = {}) {
  const { scopes, schemes, requestUrl = defaultRequestUrl } = options;
  // Checked now, so that an unknown scheme or a bad header name fails at start-up, not on the first request.
  verifier.checkSchemes(schemes);
  const clientCertificate = clientCertificateReader(options.clientCertificateHeader);
  return function tollgateAuth(
    req: ExpressRequestLike,
    res: ExpressResponseLike,
    next: (error?: unknown) => void,
  ): void {
    const body = needsBody(req.headers, schemes)
      ? rawBody(req.rawBody, req, 'req.rawBody').then((raw) => (req.rawBody = raw))
      : Promise.resolve(undefined);
    body
      .then((raw) =>
        verifier.verifyRequest(
          {
            method: req.method,
            // A getter: the URL is only worth building when there is a DPoP proof to check it against.
            get url() {
              return requestUrl(req);
            },
            headers: req.headers,
            // A getter too: read only for a certificate-bound token.
            get clientCertificate() {
              return clientCertificate(req);
            },
            ...(raw === undefined ? {} : { body: raw }),
          },
          { scopes, schemes },
        ),
      )
      .then(
        (caller: VerifiedCaller) => {
          if (caller.scheme === 'api-key')
            for (const [name, value] of rateLimitHeaders(caller.rateLimit)) res.setHeader(name, value);
          (req as { auth?: VerifiedCaller }).auth = caller;
          next();
        },
        (error: unknown) => {
          if (!(error instanceof ResourceServerError)) return next(error);
          res.statusCode = error.status;
          if (error.wwwAuthenticate !== undefined) res.setHeader('WWW-Authenticate', error.wwwAuthenticate);
          if (error instanceof InvalidSignatureError) res.setHeader('Accept-Signature', error.acceptSignature);
          for (const [name, value] of rateLimitHeaders(undefined, error)) res.setHeader(name, value);
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.end(JSON.stringify(error.toJSON()));
        },
      );
  };
}
