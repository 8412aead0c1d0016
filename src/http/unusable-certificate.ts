import type { Middleware } from 'koa';
import { ClientAuthenticationError } from '../oidc-provider/internals.js';
import type { ClientCertificates } from '../web/client-certificate.js';
import { sendErrorResponse } from '../web/error-response.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';

export interface UnusableCertificateOptions {
  paths: Pick<Paths, 'token' | 'introspection' | 'revocation' | 'pushedAuthorization' | 'deviceAuthorization'>;
  issuer: string;
  certificates: ClientCertificates;
}

/**
 * A request to an endpoint that authenticates clients, presenting a client certificate that
 * cannot be used — a `Client-Cert` header that is no certificate, a certificate outside its
 * validity period — is answered 401 invalid_client here, whatever client it names (RFC 9440
 * §2.2: a bad header is a bad certificate). Without this, oidc-provider would see "no
 * certificate" and a client that needs none, or whose tokens it would bind to a certificate,
 * would go on as if nothing had been sent.
 */
export function unusableCertificate(options: UnusableCertificateOptions): Middleware {
  const { paths, certificates } = options;
  const guarded = new Set([
    paths.token,
    paths.introspection,
    paths.revocation,
    paths.pushedAuthorization,
    paths.deviceAuthorization,
  ]);
  return gated(
    (ctx) => ctx.method === 'POST' && guarded.has(ctx.path),
    async (ctx, next) => {
      const presented = certificates.of(ctx.req);
      if (presented.kind !== 'unusable') return next();
      ctx.set('WWW-Authenticate', `Basic realm="${options.issuer}", error="invalid_client"`);
      sendErrorResponse(ctx, new ClientAuthenticationError(401, 'invalid_client', presented.reason));
      return undefined;
    },
  );
}
