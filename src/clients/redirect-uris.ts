import { ValidationError } from '../lib/errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** RFC 8252 §7.3: a loopback IP literal, on which a native app's redirect may use any port. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * Redirect URI rules (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): absolute, no fragment, no
 * wildcards, matched exactly later. `https` for everyone; a native public client may also use
 * loopback IP literals over http (any port at authorization time) and private-use schemes in
 * reverse-domain form.
 */
export function validateRedirectUri(value: string, field: string, isPublic: boolean): string {
  const url = URL.parse(value);
  if (!url) throw new ValidationError(`${field}: "${value}" is not an absolute URI`);
  if (value.includes('#')) throw new ValidationError(`${field}: "${value}" must not contain a fragment`);
  if (value.includes('*')) throw new ValidationError(`${field}: "${value}" must not contain wildcards; register each URI exactly`);
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') {
    if (!url.hostname) throw new ValidationError(`${field}: "${value}" has no host`);
    return value;
  }
  if (scheme === 'http') {
    if (!isLoopbackHost(url.hostname)) {
      const hint = url.hostname === 'localhost' ? ' (for a native app use http://127.0.0.1:PORT/…, RFC 8252 §8.3)' : '';
      throw new ValidationError(`${field}: "${value}" must use https${hint}`);
    }
    if (!isPublic) throw new ValidationError(`${field}: loopback http redirect URIs are for native public clients (--public)`);
    return value;
  }
  if (!scheme.includes('.')) {
    throw new ValidationError(`${field}: "${value}" must use https, a loopback address, or a private-use scheme in reverse-domain form such as com.example.app:/callback`);
  }
  if (!isPublic) throw new ValidationError(`${field}: private-use scheme redirect URIs are for native public clients (--public)`);
  return value;
}

/** Whether a client's redirect URIs make it a native app in RFC 8252's sense. */
export function isNativeRedirect(value: string): boolean {
  const url = URL.parse(value);
  return !!url && url.protocol !== 'https:';
}
