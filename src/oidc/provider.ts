import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Knex } from 'knex';
import type { ApiCatalog } from '../apis/api-catalog.js';
import type { ClientDirectory, KnownClient } from '../clients/client-directory.js';
import type { CertificateRules } from '../clients/client-authentication.js';
import { certificateProvesClient } from '../clients/certificate-authentication.js';
import type { Config } from '../config.js';
import { DEFAULT_TOKEN_TTL } from '../lib/token-lifetime.js';
import { SIGNING_ALGORITHMS, DEFAULT_SIGNING_ALGORITHM } from '../lib/signing-algorithms.js';
import type { KeySnapshot } from '../keys/key-snapshot.js';
import type { Logger } from '../log.js';
import { trustProxyHops } from '../web/client-address.js';
import { PROVIDER_ROUTES, type Paths } from '../web/paths.js';
import { findAccount } from './accounts.js';
import { adapterFactory } from './adapter.js';
import { installClientInstanceCache } from './client-instances.js';
import { installClientSecretHook } from './client-secret-hook.js';
import { IMPLIED_CONSENT_PARAM, interactionPolicyWithImpliedConsent } from './offline-access.js';
import {
  CLIENT_AUTH_METHODS,
  checkProviderInternals,
  onRefreshTokenReuse,
  onServerError,
  providerPageHooks,
  type ProviderPageHooks,
} from '../oidc-provider/internals.js';
import type { Metrics } from '../metrics/metrics.js';
import { recordProviderMetrics } from './provider-metrics.js';
import type { RefreshReuseAudit } from './refresh-reuse-audit.js';
import { defaultResource, installGrantNarrowing, resourceServerInfo } from './resource-policy.js';

export interface ProviderDependencies {
  config: Config;
  db: Knex;
  catalog: ApiCatalog;
  directory: ClientDirectory;
  /** The signing keys this Provider is built with; a changed ring builds a new Provider. */
  keys: KeySnapshot;
  cookieKeys: string[];
  logger: Logger;
  adapterOptions: Parameters<typeof adapterFactory>[2];
  /** Every public path; oidc-provider's routes are passed to it from the same table. */
  paths: Paths;
  /** The pages oidc-provider renders itself (errors, sign-out, the device pages), in Tollgate's look. */
  pages: ProviderPageHooks;
  /** The grant oidc-provider checks requested scopes against before asking for consent. */
  loadExistingGrant: NonNullable<Configuration['loadExistingGrant']>;
  /** Told of every failure oidc-provider answers itself, with the request's context. */
  reportServerError(ctx: object, error: unknown): void;
  /** Where tokens issued and error answers are counted. */
  metrics: Metrics;
  /** Told of each refresh token presented again (its family revoked), for the audit log. */
  refreshReuse: RefreshReuseAudit;
  /** The request's client certificate (TLS socket or trusted proxy header) and TLS_CLIENT_CA. */
  certificates: CertificateRules;
}

const ASYMMETRIC = [...SIGNING_ALGORITHMS];
const AUTHORIZATION_CODE_TTL = 60;
const INTERACTION_TTL = 3600;
/**
 * A session nobody has signed in to (the sign-out page's, the device page's, one left by an
 * abandoned sign-in) only carries a form's token between two requests: it lives ten minutes,
 * renewed by each request it serves, so anonymous visits cannot pile up days of rows. Signing in
 * saves it again with SESSION_TTL. A sign-in outliving it still completes: the interaction
 * (INTERACTION_TTL) does not depend on an anonymous session.
 */
const ANONYMOUS_SESSION_TTL = 600;

type TokenLike = { resourceServer?: { accessTokenTTL?: number }; iiat?: number };
type SessionLike = { accountId?: string };

/** Every artefact's lifetime; access tokens take their API's, refresh tokens idle and absolute limits. */
function lifetimes(limits: Config['lifetimes']): Configuration['ttl'] {
  const accessToken = (_ctx: unknown, token: TokenLike) => token.resourceServer?.accessTokenTTL ?? DEFAULT_TOKEN_TTL;
  return {
    AccessToken: accessToken,
    ClientCredentials: accessToken,
    AuthorizationCode: AUTHORIZATION_CODE_TTL,
    DeviceCode: limits.deviceCode,
    IdToken: limits.idToken,
    Interaction: INTERACTION_TTL,
    Session: (_ctx: unknown, session: SessionLike) =>
      session.accountId ? limits.session : Math.min(limits.session, ANONYMOUS_SESSION_TTL),
    // A grant lives as long as the longest refresh-token family it can hold.
    Grant: limits.refreshTokenAbsolute,
    RefreshToken(_ctx: unknown, token: TokenLike) {
      const now = Math.floor(Date.now() / 1000);
      const familyStart = token.iiat ?? now;
      return Math.max(1, Math.min(limits.refreshTokenIdle, familyStart + limits.refreshTokenAbsolute - now));
    },
  } as Configuration['ttl'];
}

/**
 * A browser app's origin is the origin of one of its web redirect URIs. Only http(s) URIs have
 * one: a private-use URI (`com.example.app:/cb`, RFC 8252 §7.1) has the opaque origin "null" —
 * the very value a sandboxed iframe or a data: page sends as `Origin` (Fetch §3.2.5, RFC 6454
 * §7.3) — so it never matches, and neither does an `Origin: null`.
 */
export function corsAllows(redirectUris: readonly string[], origin: string): boolean {
  if (origin === 'null') return false;
  return redirectUris.some((uri) => {
    const url = URL.parse(uri);
    return (url?.protocol === 'https:' || url?.protocol === 'http:') && url.origin === origin;
  });
}

/**
 * Builds the oidc-provider instance from its documented configuration. What Tollgate does around
 * it is elsewhere, by design: its reliances on oidc-provider's internals in src/oidc-provider/internals.ts,
 * and what runs before and after it on each endpoint in docs/endpoints.md.
 */
export function buildProvider(deps: ProviderDependencies): Provider {
  const { config, catalog, keys, paths } = deps;
  const pages = providerPageHooks(deps.pages);
  const { certificates } = deps;
  // Set once the Provider exists (below); the hooks run only on requests, after that.
  let recordOf: (instance: unknown) => KnownClient | undefined = () => undefined;
  /** oidc-provider's tls_client_auth check, for both certificate methods: Tollgate's one rule decides. */
  const certificateProves = (ctx: KoaContextWithOIDC) => {
    const record = recordOf(ctx.oidc.client);
    return (
      !!record &&
      certificateProvesClient(record, certificates.certificates.certificateOf(ctx.req), certificates.trustedCas)
    );
  };

  const configuration: Configuration = {
    adapter: adapterFactory(deps.db, deps.directory, deps.adapterOptions) as unknown as Configuration['adapter'],
    jwks: { keys: keys.providerJwks() as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: deps.cookieKeys },
    // Secrets are stored hashed, so nothing that needs the secret itself as a key is offered;
    // private_key_jwt verifies assertions with the client's registered public keys.
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    routes: PROVIDER_ROUTES,
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
    rotateRefreshToken: true,
    ttl: lifetimes(config.lifetimes),
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      deviceFlow: {
        enabled: true,
        // RFC 8628 §6.1: 8 characters from 20 consonants, shown as XXXX-XXXX.
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: pages.userCodeInputSource,
        userCodeConfirmSource: pages.userCodeConfirmSource,
        successSource: pages.successSource,
      },
      revocation: { enabled: true },
      // RFC 8705. Always on, so a certificate client's metadata stays valid whatever the start-up
      // settings; without TLS_CERT/TLS_CLIENT_CA or CLIENT_CERT_HEADER no certificate ever arrives
      // and such a client cannot authenticate. No mtls_endpoint_aliases: TLS ends on the listener
      // that serves every endpoint (or at the proxy in front of it), which asks for a certificate
      // without requiring one, so the ordinary endpoints already take certificates and browsers
      // are not bothered; aliases are for servers that must ask on a separate host.
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => certificates.certificates.certificateOf(ctx.req),
        certificateAuthorized: certificateProves,
        certificateSubjectMatches: certificateProves,
      },
      // The contract: active:true only to the client the token was issued to.
      introspection: { enabled: true, allowedPolicy: (ctx, client, token) => client.clientId === token.clientId },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client) => defaultResource(catalog, deps.directory, ctx as KoaContextWithOIDC, client),
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) =>
          resourceServerInfo(catalog, deps.directory, keys, ctx as KoaContextWithOIDC, resource, client),
      },
    },
    // Tollgate's own endpoint beside oidc-provider's, found through discovery like every other.
    discovery: {
      api_key_verification_endpoint: new URL(paths.apiKeyVerification, config.issuer).href,
      signature_key_lookup_endpoint: new URL(paths.signatureKeyLookup, config.issuer).href,
      signature_verification_endpoint: new URL(paths.signatureVerification, config.issuer).href,
    },
    findAccount: findAccount(deps.db),
    renderError: pages.renderError,
    interactions: {
      url: (_ctx, interaction) => paths.interactionPage(interaction.uid),
      policy: interactionPolicyWithImpliedConsent(),
    },
    loadExistingGrant: deps.loadExistingGrant,
    extraParams: [IMPLIED_CONSENT_PARAM],
    // Browser apps may call the token, revocation and userinfo endpoints from their own origin.
    clientBasedCORS: (_ctx, origin, client) => corsAllows(client.redirectUris ?? [], origin),
    formats: {
      customizers: {
        // Links a user's JWT access token to its grant, so introspection can tell a revoked one.
        jwt(_ctx, token, jwt) {
          const { grantId } = token as { grantId?: string };
          if (grantId) jwt.payload.gid = grantId;
        },
      },
    },
  };

  const provider = new Provider(config.issuer, configuration);
  checkProviderInternals(provider);
  trustProxyHops(provider, config.trustProxy);
  installClientSecretHook(provider);
  ({ recordOf } = installClientInstanceCache(provider, deps.directory));
  installGrantNarrowing(provider, deps.directory);

  // Its own failures go to whoever the composition root chose (the public app's error boundary).
  onServerError(provider, deps.reportServerError);
  recordProviderMetrics(provider, deps.metrics);
  onRefreshTokenReuse(provider, (ctx) => deps.refreshReuse.note(ctx));
  return provider;
}
