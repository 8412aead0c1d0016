import crypto from 'node:crypto';
import type { TestServer } from './server.js';

export interface IssuedCode {
  code: string;
  verifier: string;
  grantId: string;
}

/**
 * Mints a real authorization code through the server's own oidc-provider models — what the
 * login and consent pages do once a person has signed in — so the token endpoint can be tested
 * on its own. The code is stored by Tollgate's adapter like any other.
 */
export async function issueAuthorizationCode(
  server: TestServer,
  options: {
    clientId: string;
    accountId: string;
    redirectUri: string;
    scope: string;
    resource: string;
  },
): Promise<IssuedCode> {
  const { provider } = server.tollgate;
  const client = await provider.Client.find(options.clientId);
  if (!client) throw new Error(`client ${options.clientId} not found`);
  const scopes = options.scope.split(' ');
  const oidcScopes = scopes.filter((scope) => ['openid', 'offline_access', 'profile', 'email'].includes(scope));
  const apiScopes = scopes.filter((scope) => !oidcScopes.includes(scope));

  const grant = new provider.Grant({ accountId: options.accountId, clientId: options.clientId });
  grant.addOIDCScope(oidcScopes.join(' '));
  if (apiScopes.length) grant.addResourceScope(options.resource, apiScopes.join(' '));
  const grantId = await grant.save();

  const verifier = crypto.randomBytes(32).toString('base64url');
  const code = new provider.AuthorizationCode({
    accountId: options.accountId,
    client,
    grantId,
    redirectUri: options.redirectUri,
    scope: options.scope,
    resource: options.resource,
    codeChallenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
    codeChallengeMethod: 'S256',
    authTime: Math.floor(Date.now() / 1000),
    gty: 'authorization_code',
  });
  return { code: await code.save(), verifier, grantId };
}
