/** RFC 8628's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The grant types a client may be registered for. No implicit, no password grant. */
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token', DEVICE_CODE_GRANT] as const;

/** Short names accepted on input (the CLI's `device_code`). */
export const GRANT_TYPE_ALIASES: Record<string, string> = { device_code: DEVICE_CODE_GRANT };
