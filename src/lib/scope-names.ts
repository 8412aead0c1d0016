/** Scopes with a meaning of their own in OpenID Connect; no API may claim them. */
export const RESERVED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export function isReservedScope(scope: string): boolean {
  return (RESERVED_SCOPES as readonly string[]).includes(scope);
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, double quote and backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

export function isScopeToken(scope: string): boolean {
  return SCOPE_TOKEN.test(scope);
}
