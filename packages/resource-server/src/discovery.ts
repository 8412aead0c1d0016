import { FetchError, fetchJson, type Fetch } from './http.js';

/** Where discovery documents live for an issuer: OpenID Connect first, then RFC 8414 §3.1 placement. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Finds the issuer's `jwks_uri`. The document must name exactly the configured issuer (RFC 8414
 * §3.3): a look-alike document must not be able to point us at someone else's keys.
 */
export async function discoverJwksUri(fetchImpl: Fetch, issuer: string, timeoutMs: number): Promise<string> {
  let lastError: unknown;
  for (const url of discoveryUrls(issuer)) {
    let body: Record<string, unknown>;
    try {
      ({ body } = await fetchJson(fetchImpl, url, timeoutMs));
    } catch (error) {
      lastError = error;
      // Only a missing document is worth a second location; an unreachable issuer is unreachable.
      if (error instanceof FetchError && error.status === 404) continue;
      throw error;
    }
    if (body.issuer !== issuer)
      throw new FetchError(`${url}: names issuer ${JSON.stringify(body.issuer)}, expected ${JSON.stringify(issuer)}`);
    const jwksUri = body.jwks_uri;
    if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri))
      throw new FetchError(`${url}: no usable jwks_uri`);
    return jwksUri;
  }
  throw lastError;
}
