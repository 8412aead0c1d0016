import type { Context } from 'koa';
import type { Client } from './client.js';
import type { ClientDirectory } from './client-directory.js';
import { verifyClientSecret } from './client-secret.js';
import { ClientAuthenticationError, presentedClientCredentials } from '../oidc-provider/internals.js';

export { ClientAuthenticationError } from '../oidc-provider/internals.js';

/**
 * The client authentication Tollgate offers (client_secret_basic, client_secret_post, none),
 * where Tollgate must know who the caller is before oidc-provider does: introspection of JWT
 * access tokens, which oidc-provider refuses, and a client's own rate limit on the token
 * endpoint (src/limits/client-rate-limit.ts). The credentials are read by a copy of
 * oidc-provider's rules (the seam's presentedClientCredentials); then, as it does, the registered
 * kind of client decides (public: id only; confidential: its secret), compared in constant time.
 */
export async function authenticateClient(
  ctx: Context,
  params: URLSearchParams,
  directory: ClientDirectory,
): Promise<Client> {
  const { id, secret } = presentedClientCredentials(ctx.get('authorization'), params);
  const client = await directory.find(id);
  if (!client || !holdsCredentials(client, secret))
    throw new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed');
  return client;
}

/** Whether `secret` (null: none presented) authenticates `client`, by its registered kind. */
export function holdsCredentials(client: Client, secret: string | null): boolean {
  return client.isPublic
    ? secret === null
    : secret !== null && verifyClientSecret(secret, client.secretHash ?? undefined);
}
