import { clientCertificateReader } from './client-certificate-source.js';
import { InvalidSignatureError, ResourceServerError } from './errors.js';
import { needsBody, rawBody } from './raw-body.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { RequestScheme } from './schemes.js';
import type { Verifier, VerifiedCaller } from './verifier.js';

/**
 * The parts of a Koa context the middleware uses. Structural on purpose: this package must not
 * load Koa (an API on Express installs no Koa), and any Koa 2/3 context fits.
 */
export interface KoaContextLike {
  method: string;
  /** The full request URL; honours X-Forwarded-Proto/-Host when `app.proxy` is set. */
  href: string;
  /**
   * Node's request: its headers, its socket (a TLSSocket's peer certificate, for certificate-bound
   * tokens) and, for a signed request with a body, its stream.
   */
  req: { headers: Record<string, string | string[] | undefined>; socket?: unknown };
  /**
   * Koa's request; a signed request's raw body is read from `request.rawBody` when the app (or its
   * body parser) kept it there, and put there when the middleware read it. `object`, not a shape:
   * Koa's Request type declares no rawBody.
   */
  request?: object;
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as in Koa's own types: handlers put their own things there too
  state: Record<string, any>;
}

export interface KoaProtectOptions {
  /** Scopes every request must carry (all of them). */
  scopes?: readonly string[];
  /** How callers may authenticate: `bearer`, `dpop`, `api-key`, `signature`, `mtls`. Default bearer and dpop. */
  schemes?: readonly RequestScheme[];
  /** The URL clients call, for DPoP `htu`, when Koa cannot see it (a proxy rewriting paths). */
  requestUrl?: (ctx: KoaContextLike) => string;
  /**
   * Behind a TLS-terminating proxy: the header in which the proxy passes the client certificate
   * (RFC 9440, e.g. `client-cert`), read instead of the TLS socket. Only for a proxy that sets it on
   * every request and removes any the client sent.
   */
  clientCertificateHeader?: string;
}

/**
 * Koa middleware: authenticates the request by one of `schemes`, puts the caller on
 * `ctx.state.auth`, and answers 400/401/403/429/503 itself with `WWW-Authenticate` and a JSON body.
 * With `mtls` in `schemes`, a certificate-bound token is checked against the TLS socket's peer
 * certificate (or the `clientCertificateHeader` a proxy sets).
 * A rate-limited API key gets the RateLimit headers on every response. With `signature` in
 * `schemes`, a signed request's body is read (at most 1 MiB, else 413) unless the app kept it on
 * `ctx.request.rawBody`, and left there for the handlers; a refused signature gets `Accept-Signature`.
 */
export function protectKoa(verifier: Verifier, options: KoaProtectOptions = {}) {
  const { scopes, schemes, requestUrl = (ctx: KoaContextLike) => ctx.href } = options;
  // Checked now, so that an unknown scheme or a bad header name fails at start-up, not on the first request.
  verifier.checkSchemes(schemes);
  const clientCertificate = clientCertificateReader(options.clientCertificateHeader);
  return async function tollgateAuth(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
    let caller: VerifiedCaller;
    try {
      let body: Buffer | string | undefined;
      if (needsBody(ctx.req.headers, schemes)) {
        const request = (ctx.request ?? {}) as { rawBody?: unknown };
        body = await rawBody(request.rawBody, ctx.req, 'ctx.request.rawBody');
        request.rawBody = body;
      }
      caller = await verifier.verifyRequest(
        {
          method: ctx.method,
          // A getter: the URL is only worth building when there is a DPoP proof to check it against.
          get url() {
            return requestUrl(ctx);
          },
          headers: ctx.req.headers,
          // A getter too: read only for a certificate-bound token.
          get clientCertificate() {
            return clientCertificate(ctx.req);
          },
          ...(body === undefined ? {} : { body }),
        },
        { scopes, schemes },
      );
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      ctx.status = error.status;
      if (error.wwwAuthenticate !== undefined) ctx.set('WWW-Authenticate', error.wwwAuthenticate);
      if (error instanceof InvalidSignatureError) ctx.set('Accept-Signature', error.acceptSignature);
      for (const [name, value] of rateLimitHeaders(undefined, error)) ctx.set(name, value);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = error.toJSON();
      return;
    }
    if (caller.scheme === 'api-key')
      for (const [name, value] of rateLimitHeaders(caller.rateLimit)) ctx.set(name, value);
    ctx.state.auth = caller;
    // Outside the try: errors of the routes behind us are theirs, not authorization failures.
    await next();
  };
}
