import type { Context } from 'koa';
import type { Client } from '../clients/client.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { verifyClientSecret } from '../clients/client-secret.js';
import { TollgateError } from '../lib/errors.js';

export class ClientAuthenticationError extends TollgateError {
  constructor(status: 400 | 401, code: 'invalid_request' | 'invalid_client', message: string) {
    super(status, code, message);
  }
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic credentials.
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/**
 * The client authentication Tollgate offers (client_secret_basic, client_secret_post, none),
 * for the one endpoint Tollgate answers itself: introspection of JWT access tokens, which
 * oidc-provider refuses. It follows oidc-provider's rules: one method per request, the
 * registered kind of client (public: id only; confidential: its secret), constant-time compare.
 */
export async function authenticateClient(ctx: Context, params: URLSearchParams, directory: ClientDirectory): Promise<Client> {
  const basic = basicCredentials(ctx.get('authorization') || undefined);
  if (ctx.get('authorization') && !basic) throw new ClientAuthenticationError(400, 'invalid_request', 'invalid Authorization header');
  if (basic && (params.has('client_secret') || (params.has('client_id') && params.get('client_id') !== basic.id))) {
    throw new ClientAuthenticationError(400, 'invalid_request', 'client authentication must only be provided using one mechanism');
  }
  const id = basic?.id ?? params.get('client_id');
  if (!id) throw new ClientAuthenticationError(400, 'invalid_request', 'no client authentication mechanism provided');
  const secret = basic?.secret ?? params.get('client_secret');
  const client = await directory.find(id);
  const authenticated = client && (client.isPublic
    ? secret === null
    : secret !== null && verifyClientSecret(secret, client.secretHash ?? undefined));
  if (!client || !authenticated) throw new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed');
  return client;
}
