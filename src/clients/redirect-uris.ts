import { ValidationError } from '../lib/errors.js';
import { isLoopbackHost } from '../lib/loopback-host.js';

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
  if (value.includes('*'))
    throw new ValidationError(`${field}: "${value}" must not contain wildcards; register each URI exactly`);
  // Credentials in a redirect URI would be handed to every browser sent there, and
  // `https://good.example@evil.example/` reads as one host while it is another (RFC 3986 §3.2.1
  // deprecates userinfo; RFC 9700 §4.1 on redirect URI manipulation).
  if (url.username || url.password || /^[^:]+:\/\/[^/?#]*@/.test(value)) {
    throw new ValidationError(`${field}: "${value}" must not contain user information (user:password@)`);
  }
  // Matched by exact string comparison (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3), so what is stored
  // must be the one spelling a client sends: its normal form (lower-case scheme and host, no
  // default port, a path, percent-encoding as WHATWG URL writes it). Anything else would be
  // stored as typed and never match; it is refused with the form to register instead.
  if (url.href !== value) {
    throw new ValidationError(`${field}: "${value}" is not in normal form; register it as "${url.href}"`);
  }
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
    if (!isPublic)
      throw new ValidationError(`${field}: loopback http redirect URIs are for native public clients (--public)`);
    return value;
  }
  if (!scheme.includes('.')) {
    throw new ValidationError(
      `${field}: "${value}" must use https, a loopback address, or a private-use scheme in reverse-domain form such as com.example.app:/callback`,
    );
  }
  if (!isPublic)
    throw new ValidationError(`${field}: private-use scheme redirect URIs are for native public clients (--public)`);
  return value;
}

/** Whether a client's redirect URIs make it a native app in RFC 8252's sense. */
export function isNativeRedirect(value: string): boolean {
  const url = URL.parse(value);
  return !!url && url.protocol !== 'https:';
}
