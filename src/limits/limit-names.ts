/**
 * The limits' names: each keys its counters (`<name>:<subject>`) and labels its refusals in
 * `tollgate_rate_limited_total{limit}`, a fixed set so the label stays bounded.
 */
export const LIMIT_NAMES = {
  /** Per client address, what stores something for a caller who has proved nothing. */
  anonymous: 'anonymous',
  /** Per client, its own token requests (`clients … --rate-limit`). */
  client: 'client',
  /** Per client address, failed client authentications (token, introspection, revocation). */
  clientAuthFailures: 'client_auth_failures',
  /** Per API key, the requests an API serves with it (`api-keys … --rate-limit`), granted at verification. */
  apiKey: 'api_key',
  /** Per client address, questions to the API-key verification endpoint answered inactive. */
  apiKeyVerificationFailures: 'api_key_verification_failures',
  /** Per client address, questions to the signature key lookup and verification endpoints answered inactive. */
  signatureVerificationFailures: 'signature_verification_failures',
} as const;

/** Told of each request a limit refused, by the limit's name. */
export type RefusalCounter = (limit: string) => void;
