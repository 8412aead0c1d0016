import type { Context } from 'koa';
import type { Client } from '../clients/client.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { verifyClientSecret } from '../clients/client-secret.js';
import { ClientAuthenticationError, presentedClientCredentials } from '../oidc-provider/internals.js';

export { ClientAuthenticationError } from '../oidc-provider/internals.js';

/**
 * The client authentication Tollgate offers (client_secret_basic, client_secret_post, none),
 * for the one endpoint Tollgate answers itself: introspection of JWT access tokens, which
 * oidc-provider refuses. The credentials are read by a copy of oidc-provider's rules (the seam's
 * presentedClientCredentials); then, as it does, the registered kind of client decides (public:
 * id only; confidential: its secret), compared in constant time.
 */
export async function authenticateClient(
  ctx: Context,
  params: URLSearchParams,
  directory: ClientDirectory,
): Promise<Client> {
  const { id, secret } = presentedClientCredentials(ctx.get('authorization'), params);
  const client = await directory.find(id);
  const authenticated =
    client &&
    (client.isPublic ? secret === null : secret !== null && verifyClientSecret(secret, client.secretHash ?? undefined));
  if (!client || !authenticated)
    throw new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed');
  return client;
}
