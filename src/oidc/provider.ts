import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Knex } from 'knex';
import type { ApiCatalog } from '../apis/api-catalog.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { Config } from '../config.js';
import { SIGNING_ALGORITHMS, DEFAULT_SIGNING_ALGORITHM } from '../keys/algorithms.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Logger } from '../log.js';
import { escapeHtml } from '../http/html.js';
import { adapterFactory } from './adapter.js';
import { installClientSecretHook } from './client-secret-hook.js';
import { defaultResource, resourceServerInfo } from './resource-policy.js';

export interface ProviderDependencies {
  config: Config;
  db: Knex;
  catalog: ApiCatalog;
  directory: ClientDirectory;
  keyRing: KeyRing;
  cookieKeys: string[];
  logger: Logger;
}

const ASYMMETRIC = [...SIGNING_ALGORITHMS];

/** Builds the oidc-provider instance: every protocol decision Tollgate makes is in this file. */
export function buildProvider(deps: ProviderDependencies): Provider {
  const { config, catalog, keyRing } = deps;

  const configuration: Configuration = {
    adapter: adapterFactory(deps.db, deps.directory) as unknown as Configuration['adapter'],
    jwks: { keys: keyRing.providerJwks() as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: deps.cookieKeys },
    // Secrets are stored hashed, so nothing that needs the secret itself as a key is offered.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ASYMMETRIC,
      userinfoSigningAlgValues: ASYMMETRIC,
      introspectionSigningAlgValues: ASYMMETRIC,
      authorizationSigningAlgValues: ASYMMETRIC,
      requestObjectSigningAlgValues: ASYMMETRIC,
      clientAuthSigningAlgValues: ASYMMETRIC,
    },
    clientDefaults: {
      id_token_signed_response_alg: DEFAULT_SIGNING_ALGORITHM,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email', 'email_verified'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client) => defaultResource(catalog, deps.directory, ctx as KoaContextWithOIDC, client),
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => resourceServerInfo(catalog, deps.directory, keyRing, ctx as KoaContextWithOIDC, resource, client),
      },
    },
    // No users exist until the sign-in capability lands; an unknown account is always "none".
    findAccount: async () => undefined,
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title></head><body><h1>Something went wrong</h1><p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p></body></html>`;
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  installClientSecretHook(provider);

  provider.on('server_error', (_ctx: unknown, error: Error) => {
    deps.logger.error({ err: { type: error.name, message: error.message, stack: error.stack } }, 'oidc-provider server error');
  });
  return provider;
}
