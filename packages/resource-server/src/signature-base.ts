import { httpbis } from 'http-message-signatures';
import { serializeInnerList, serializeItem, type Item, type Parameters } from 'structured-headers';
import type { RequestHeaders } from './request.js';

/**
 * The RFC 9421 signature base, shared by signRequest and the verifier so that they cannot drift
 * apart. The canonicalisation itself (deriving `@method`, `@target-uri`, `@query-param`…,
 * combining field values, `sf`/`key`/`bs`) is http-message-signatures'; this module only feeds it
 * one request in one shape and says which component failed.
 */

/** A request as http-message-signatures reads it: lower-cased header names, URL parsed once. */
export interface CanonicalRequest {
  method: string;
  url: URL;
  headers: Record<string, string | string[]>;
}

/**
 * The absolute http(s) URL a signature's `@target-uri` names, as WHATWG URL normalises it (lower-case
 * scheme and host, no default port, no fragment): what signRequest signs and the verifier expects,
 * so that `https://API.example.com:443/x` and `https://api.example.com/x` are one target.
 * `undefined` when the URL is not absolute http(s).
 */
export function targetUrl(url: string | URL): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  parsed.hash = '';
  return parsed;
}

/**
 * The headers in a plain record with lower-case names. A name given in several cases, or several
 * times, keeps every value in order: http-message-signatures joins them with ", " as RFC 9421
 * §2.1 says, which is also what Node and the fetch API already did to repeated headers.
 */
export function headerRecord(headers: RequestHeaders | undefined): Record<string, string | string[]> {
  const record: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const add = (name: string, value: string | readonly string[] | undefined) => {
    if (value === undefined) return;
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const key = name.toLowerCase();
    (record[key] ??= []).push(...values);
  };
  if (headers === undefined) return record;
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((value, name) => add(name, value));
    return record;
  }
  if (typeof headers !== 'object' || headers === null) throw new TypeError('request.headers must be an object');
  for (const [name, value] of Object.entries(headers)) add(name, value);
  return record;
}

/** A covered component the request does not have or that cannot be derived from it. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** The serialized identifier of a component (`"content-digest"`, `"@query-param";name="id"`). */
export function componentId(component: Item): string {
  return serializeItem(component);
}

/**
 * The signature base of `components` under `parameters` (RFC 9421 §2.5) and the `@signature-params`
 * value, which is also the member to send in `Signature-Input`. Throws a ComponentError naming the
 * first component the request cannot give.
 */
export function signatureBase(
  request: CanonicalRequest,
  components: readonly Item[],
  parameters: Parameters,
): { base: string; signatureParams: string } {
  const lines: [string, string[]][] = [];
  for (const component of components) {
    const id = componentId(component);
    try {
      // One component at a time, so that a failure names its component.
      lines.push(...httpbis.createSignatureBase({ fields: [id] }, request));
    } catch (error) {
      throw new ComponentError(id, error instanceof Error ? error.message : String(error));
    }
  }
  const signatureParams = serializeInnerList([[...components], parameters]);
  lines.push(['"@signature-params"', [signatureParams]]);
  return { base: httpbis.formatSignatureBase(lines), signatureParams };
}
