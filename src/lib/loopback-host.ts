const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * RFC 8252 §7.3: a loopback IP literal, on which a native app's redirect may use any port. Read by
 * the redirect-URI rules and by the pages' form-action policy, which must agree.
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
