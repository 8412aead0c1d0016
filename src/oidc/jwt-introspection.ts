import type { Context, Middleware } from 'koa';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { ClientDirectory } from '../clients/client-directory.js';
import { sendErrorResponse } from '../web/error-response.js';
import { peekForm } from '../web/form-peek.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { SIGNING_ALGORITHMS } from '../lib/signing-algorithms.js';
import type { KeyRing } from '../keys/key-ring.js';
import {
  authenticateClient,
  ClientAuthenticationError,
  type AssertionRules,
  type CertificateRules,
} from '../clients/client-authentication.js';
import { assertionIsNew } from '../oidc-provider/internals.js';
import type { ProviderHost } from './provider-host.js';

function isJwt(token: string): boolean {
  try {
    return token.split('.').length === 3 && !!decodeProtectedHeader(token);
  } catch {
    return false;
  }
}

export interface JwtIntrospectionDependencies {
  paths: Pick<Paths, 'introspection' | 'token'>;
  issuer: string;
  providers: ProviderHost;
  directory: ClientDirectory;
  keyRing: KeyRing;
  /** The request's client certificate, for clients that authenticate with one. */
  certificates: CertificateRules;
}

/**
 * RFC 7662 for the JWT access tokens Tollgate issues, which oidc-provider refuses to introspect
 * ("structured tokens"). Active only when the signature, issuer, type and expiry check out, the
 * asking client is the one the token was issued to, and the token's grant (`gid`) still exists —
 * a revoked refresh-token family, a password change or a deleted user or client ends it.
 * Anything that is not a JWT goes on to oidc-provider with the body already read.
 */
export function jwtIntrospection(deps: JwtIntrospectionDependencies): Middleware {
  const applies = (ctx: Context) =>
    ctx.method === 'POST' &&
    ctx.path === deps.paths.introspection &&
    Boolean(ctx.is('application/x-www-form-urlencoded'));
  const { origin } = new URL(deps.issuer);
  // The audiences oidc-provider accepts in a client assertion: the issuer, the token endpoint, this endpoint.
  const assertions: AssertionRules = {
    audiences: [deps.issuer, origin + deps.paths.token, origin + deps.paths.introspection],
    isNew: (iss, jti, exp) => assertionIsNew(deps.providers.current, iss, jti, exp),
  };
  return gated(applies, async (ctx, next) => {
    const params = await peekForm(ctx);
    if (!params) return undefined;
    const token = params.get('token');
    if (!token || params.getAll('token').length > 1 || !isJwt(token)) return next();

    ctx.set('Cache-Control', 'no-store');
    let clientId: string;
    try {
      clientId = (await authenticateClient(ctx, params, deps.directory, assertions, deps.certificates)).id;
    } catch (error) {
      if (!(error instanceof ClientAuthenticationError)) throw error;
      if (error.status === 401) ctx.set('WWW-Authenticate', `Basic realm="${deps.issuer}", error="invalid_client"`);
      sendErrorResponse(ctx, error);
      return undefined;
    }
    ctx.body = await introspect(deps, token, clientId);
    return undefined;
  });
}

async function introspect(
  deps: JwtIntrospectionDependencies,
  token: string,
  clientId: string,
): Promise<Record<string, unknown>> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, deps.keyRing.snapshot.verificationKeys, {
      issuer: deps.issuer,
      typ: 'at+jwt',
      algorithms: [...SIGNING_ALGORITHMS],
    }));
  } catch {
    return { active: false };
  }
  if (payload.client_id !== clientId) return { active: false };
  if (typeof payload.gid === 'string' && !(await deps.providers.current.Grant.find(payload.gid)))
    return { active: false };
  const { gid: _internal, ...claims } = payload;
  const cnf = claims.cnf as { jkt?: string } | undefined;
  return { ...claims, active: true, token_type: cnf?.jkt ? 'DPoP' : 'Bearer' };
}
