// The one source of an access token's lifetime: the provider, the admin API's contract, the key
// ring's retirement delay and the CLI all import these (pure constants, so the CLI may).
// migrations/001_initial.ts repeats 3600 in a CHECK constraint; migrations are history and stay as written.
export const DEFAULT_TOKEN_TTL = 600;
export const MAX_TOKEN_TTL = 3600;

/** Why a longer lifetime is refused, worded once for the admin API and the CLI; `field` is how the caller names it. */
export function tokenTtlLimitMessage(field: string): string {
  return `${field} may be at most ${MAX_TOKEN_TTL} seconds (access tokens are short-lived; use refresh tokens for long sessions)`;
}
