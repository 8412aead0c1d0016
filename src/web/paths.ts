/**
 * Every path the public listener serves, in one place. oidc-provider is mounted at the issuer's
 * path and routes the paths below relative to it; Tollgate passes them to its `routes`
 * configuration and gates its own middleware on the same values, so a path is spelled once.
 * The values are oidc-provider's defaults: the public URLs are the ones they always were.
 */
export const PROVIDER_ROUTES = {
  authorization: '/auth',
  code_verification: '/device',
  device_authorization: '/device/auth',
  end_session: '/session/end',
  introspection: '/token/introspection',
  jwks: '/jwks',
  pushed_authorization_request: '/request',
  registration: '/reg',
  revocation: '/token/revocation',
  token: '/token',
  userinfo: '/me',
} as const;

/** Tollgate's own pages and documents under the issuer's path. */
const INTERACTION = '/interaction';
const ASSETS = '/assets';
const STYLESHEET = `${ASSETS}/style.css`;
const OPENID_DISCOVERY = '/.well-known/openid-configuration';
const OAUTH_DISCOVERY = '/.well-known/oauth-authorization-server';
/** Where an API asks whether an API key is valid for it (discovery: api_key_verification_endpoint). */
const API_KEY_VERIFICATION = '/api-keys/verify';
/** Where an API looks up a signed request's key (discovery: signature_key_lookup_endpoint). */
const SIGNATURE_KEY_LOOKUP = '/signature-keys/lookup';
/** Where an API has an HMAC signature checked and a nonce recorded (discovery: signature_verification_endpoint). */
const SIGNATURE_VERIFICATION = '/signatures/verify';

/** The path part of the issuer ('' when the issuer is an origin), where the provider is mounted. */
export function issuerPath(issuer: string): string {
  const { pathname } = new URL(issuer);
  return pathname === '/' ? '' : pathname.replace(/\/$/, '');
}

/** Absolute paths on the public listener (the issuer's path included). */
export interface Paths {
  /** The issuer's path ('' for an origin): where oidc-provider is mounted. */
  prefix: string;
  /** Authorization endpoint; `<authorization>/:uid` resumes it after an interaction. */
  authorization: string;
  token: string;
  introspection: string;
  revocation: string;
  userinfo: string;
  jwks: string;
  pushedAuthorization: string;
  endSession: string;
  /** RFC 8628 device authorization endpoint (POST only). */
  deviceAuthorization: string;
  /** The device code page (verification_uri); `<device>/:uid` resumes it after sign-in. */
  device: string;
  /** Tollgate's sign-in and consent pages: `<interaction>/:uid`. */
  interaction: string;
  assets: string;
  stylesheet: string;
  openidDiscovery: string;
  /** RFC 8414 §3: the well-known prefix before the issuer's path, not after it. */
  oauthDiscovery: string;
  /** Tollgate's own endpoint: is this API key valid for this API (POST, see src/http/api-key-verification.ts). */
  apiKeyVerification: string;
  /** Tollgate's own endpoints for signed requests (POST, see src/http/signature-endpoints.ts). */
  signatureKeyLookup: string;
  signatureVerification: string;
  /** The page of one interaction. */
  interactionPage(uid: string): string;
}

/** The paths for an issuer path prefix (see issuerPath). */
export function issuerPaths(prefix: string): Paths {
  const at = (route: string) => `${prefix}${route}`;
  const interaction = at(INTERACTION);
  return {
    prefix,
    authorization: at(PROVIDER_ROUTES.authorization),
    token: at(PROVIDER_ROUTES.token),
    introspection: at(PROVIDER_ROUTES.introspection),
    revocation: at(PROVIDER_ROUTES.revocation),
    userinfo: at(PROVIDER_ROUTES.userinfo),
    jwks: at(PROVIDER_ROUTES.jwks),
    pushedAuthorization: at(PROVIDER_ROUTES.pushed_authorization_request),
    endSession: at(PROVIDER_ROUTES.end_session),
    deviceAuthorization: at(PROVIDER_ROUTES.device_authorization),
    device: at(PROVIDER_ROUTES.code_verification),
    interaction,
    assets: at(ASSETS),
    stylesheet: at(STYLESHEET),
    openidDiscovery: at(OPENID_DISCOVERY),
    oauthDiscovery: `${OAUTH_DISCOVERY}${prefix}`,
    apiKeyVerification: at(API_KEY_VERIFICATION),
    signatureKeyLookup: at(SIGNATURE_KEY_LOOKUP),
    signatureVerification: at(SIGNATURE_VERIFICATION),
    interactionPage: (uid) => `${interaction}/${uid}`,
  };
}

/** Whether `path` starts with `base/` (`base` itself is not below it). */
export function isBelow(path: string, base: string): boolean {
  return path.startsWith(base) && path.charCodeAt(base.length) === 0x2f;
}
