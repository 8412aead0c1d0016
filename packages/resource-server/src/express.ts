import type { AccessTokenClaims } from './claims.js';
import { ResourceServerError } from './errors.js';
import type { Verifier } from './verifier.js';

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
  // No `auth` member here: other libraries declare their own type for req.auth, and a request
  // carrying theirs must still be accepted. The claims are set on it below.
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
  /** The URL clients call, for DPoP `htu`, when Express cannot see it (Express 4, path rewrites). */
  requestUrl?: (req: ExpressRequestLike) => string;
}

function defaultRequestUrl(req: ExpressRequestLike): string {
  const host = req.host ?? req.headers.host;
  return `${req.protocol ?? 'http'}://${String(host)}${req.originalUrl ?? req.url ?? '/'}`;
}

/**
 * Express middleware: verifies the `Authorization` (and `DPoP`) headers, puts the claims on
 * `req.auth`, and answers 400/401/403/503 itself with `WWW-Authenticate` and a JSON body.
 */
export function protectExpress(verifier: Verifier, options: ExpressProtectOptions = {}) {
  const { scopes, requestUrl = defaultRequestUrl } = options;
  return function tollgateAuth(
    req: ExpressRequestLike,
    res: ExpressResponseLike,
    next: (error?: unknown) => void,
  ): void {
    const proof = req.headers.dpop;
    const authorization = req.headers.authorization;
    verifier
      .verify(typeof authorization === 'string' ? authorization : undefined, {
        scopes,
        dpop: proof === undefined ? undefined : { proof, method: req.method, url: requestUrl(req) },
      })
      .then(
        (claims) => {
          (req as { auth?: AccessTokenClaims }).auth = claims;
          next();
        },
        (error: unknown) => {
          if (!(error instanceof ResourceServerError)) return next(error);
          res.statusCode = error.status;
          if (error.wwwAuthenticate !== undefined) res.setHeader('WWW-Authenticate', error.wwwAuthenticate);
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.end(JSON.stringify(error.toJSON()));
        },
      );
  };
}
