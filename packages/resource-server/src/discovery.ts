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

/** The endpoints of the issuer's metadata this library uses. */
export type Endpoint =
  'jwks_uri' | 'api_key_verification_endpoint' | 'signature_key_lookup_endpoint' | 'signature_verification_endpoint';

/**
 * Fetches the issuer's metadata document. It must name exactly the configured issuer (RFC 8414
 * §3.3): a look-alike document must not be able to point us at someone else's keys or endpoints.
 */
export async function fetchMetadata(fetchImpl: Fetch, issuer: string, timeoutMs: number) {
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
    return { url, body };
  }
  throw lastError;
}

/**
 * The issuer's discovery document, fetched once for everything that needs an endpoint from it (the
 * key set, the API-key client): concurrent callers share one request, a failure is not remembered
 * (the next caller asks again), and `forget()` drops the document when an endpoint it named has
 * gone (404), so that a moved endpoint is found again.
 */
export class Discovery {
  #document: Promise<{ url: string; body: Record<string, unknown> }> | undefined;

  constructor(
    private readonly fetchImpl: Fetch,
    private readonly issuer: string,
    private readonly timeoutMs: number,
  ) {}

  /** The endpoint's URL; rejects with a FetchError when it cannot be fetched or names none usable. */
  async endpoint(name: Endpoint): Promise<string> {
    const document = (this.#document ??= fetchMetadata(this.fetchImpl, this.issuer, this.timeoutMs));
    let url: string;
    let body: Record<string, unknown>;
    try {
      ({ url, body } = await document);
    } catch (error) {
      if (this.#document === document) this.#document = undefined;
      throw error;
    }
    const value = body[name];
    if (typeof value !== 'string' || !/^https?:\/\//.test(value) || !URL.canParse(value)) {
      // The issuer may be upgraded to name it: ask again next time rather than remember its absence.
      if (this.#document === document) this.#document = undefined;
      throw new FetchError(`${url}: no usable ${name}`);
    }
    return value;
  }

  forget(): void {
    this.#document = undefined;
  }
}

/**
 * What a client of one of the issuer's question endpoints needs (the API-key and signature-key
 * clients): where to find the endpoint, how to ask, for which API, and how long to keep answers.
 */
export interface IssuerClientOptions {
  discovery: Discovery;
  fetch: Fetch;
  audience: readonly string[];
  /** Milliseconds. */
  timeout: number;
  /** How long an answer (found or not) is reused at most, in milliseconds. */
  cacheTime: number;
  /** How many answers are kept at most; the oldest goes first. */
  maxEntries: number;
}
