/**
 * What this library fetches from the issuer — discovery, the JWKS, answers about API keys — is a
 * small JSON object every time.
 */

export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A JWKS or discovery document larger than this is not one: refuse it rather than parse it. */
const MAX_BODY_CHARS = 1_000_000;

export class FetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FetchError';
  }
}

export interface JsonResponse {
  body: Record<string, unknown>;
  headers: Headers;
}

/**
 * GETs a JSON object, failing after `timeoutMs` whatever the server does (a black-holed issuer
 * must not hold requests forever). The timeout covers the body too, not only the headers.
 */
export function fetchJson(fetchImpl: Fetch, url: string, timeoutMs: number): Promise<JsonResponse> {
  return requestJson(fetchImpl, url, {}, timeoutMs);
}

/** POSTs a form and reads the JSON object answered, like {@link fetchJson}. */
export function postForm(fetchImpl: Fetch, url: string, form: URLSearchParams, timeoutMs: number) {
  return requestJson(fetchImpl, url, { method: 'POST', body: form }, timeoutMs);
}

async function requestJson(fetchImpl: Fetch, url: string, init: RequestInit, timeoutMs: number): Promise<JsonResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, { ...init, headers: { accept: 'application/json' }, signal });
    text = await response.text();
  } catch (cause) {
    const timedOut = signal.aborted;
    throw new FetchError(
      timedOut ? `${url}: no answer within ${timeoutMs} ms` : `${url}: ${(cause as Error)?.message ?? cause}`,
      undefined,
      { cause },
    );
  }
  if (!response.ok) throw new FetchError(`${url}: HTTP ${response.status}`, response.status);
  if (text.length > MAX_BODY_CHARS) throw new FetchError(`${url}: response too large`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new FetchError(`${url}: response is not JSON`, undefined, { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new FetchError(`${url}: response is not a JSON object`);
  return { body: body as Record<string, unknown>, headers: response.headers };
}

/**
 * How long a response may be used, in seconds, per RFC 9111 §4.2.1 for a private cache:
 * `max-age` minus `Age`; `no-store`/`no-cache` mean zero; `undefined` when the server said nothing.
 */
export function freshnessLifetime(headers: Headers): number | undefined {
  const cacheControl = headers.get('cache-control');
  if (cacheControl === null) return undefined;
  let maxAge: number | undefined;
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2) as [string, string | undefined];
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined) {
      const seconds = Number(value.replace(/^"|"$/g, ''));
      if (Number.isFinite(seconds) && seconds >= 0) maxAge = seconds;
    }
  }
  if (maxAge === undefined) return undefined;
  const age = Number(headers.get('age') ?? 0);
  return Math.max(0, maxAge - (Number.isFinite(age) && age > 0 ? age : 0));
}
