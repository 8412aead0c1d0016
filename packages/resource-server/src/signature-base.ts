import { httpbis } from 'http-message-signatures';
import { parseItem, serializeItem, serializeParameters, type Item, type Parameters } from 'structured-headers';
import type { RequestHeaders } from './request.js';

/**
 * The RFC 9421 signature base, shared by signRequest and the verifier so that they cannot drift
 * apart. The canonicalisation itself (deriving `@method`, `@target-uri`, `@query-param`…,
 * combining field values, `sf`/`key`/`bs`, the identifiers' serialization) is
 * http-message-signatures' and structured-headers'; this module feeds it one request in one
 * shape, says which component failed, and remembers what does not depend on the request.
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
  // The setter re-parses the URL: only when there is a fragment to drop.
  if (parsed.hash !== '') parsed.hash = '';
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

/**
 * Bound on the identifiers remembered (below): a partner covers a handful of components, an
 * attacker may send any; past it, the memory starts again.
 */
const MAX_REMEMBERED = 1000;

/** Identifiers of components without parameters, by name (the common case), serialized once each. */
const plainIds = new Map<unknown, string>();

/** The serialized identifier of a component (`"content-digest"`, `"@query-param";name="id"`). */
export function componentId(component: Item): string {
  const [name, parameters] = component;
  if (parameters.size > 0 || typeof name !== 'string') return serializeItem(component);
  let id = plainIds.get(name);
  if (id === undefined) {
    id = serializeItem(component);
    if (plainIds.size >= MAX_REMEMBERED) plainIds.clear();
    plainIds.set(name, id);
  }
  return id;
}

/** What http-message-signatures makes of a component identifier, none of which depends on the request. */
interface ParsedIdentifier {
  /** The component's name, lower-cased, as createSignatureBase passes it on. */
  name: string;
  /** Its parameters (`sf`, `key`, `bs`, `name`), as parsed from the identifier. */
  parameters: Map<string, string | number | boolean>;
  /** The start of its signature base line (`"content-digest": `), as formatSignatureBase writes it. */
  prefix: string;
}

const identifiers = new Map<string, ParsedIdentifier>();

/**
 * http-message-signatures' createSignatureBase parses each identifier and serializes it back,
 * and formatSignatureBase parses and serializes it once more, on every call, for the same few
 * identifiers on every request: what they make of one is remembered instead (a pure function of
 * the identifier), and the request's own values are still derived by the library
 * (deriveComponent, extractHeader), exactly as createSignatureBase calls them.
 */
function parsedIdentifier(id: string): ParsedIdentifier {
  let parsed = identifiers.get(id);
  if (parsed === undefined) {
    const [name, parameters] = parseItem(id);
    parsed = {
      name: String(name).toLowerCase(),
      // Read by the library only through has() and get().toString(): the parsed values serve as they are.
      parameters: parameters as Map<string, string | number | boolean>,
      prefix: httpbis.formatSignatureBase([[id, ['']]]),
    };
    if (identifiers.size >= MAX_REMEMBERED) identifiers.clear();
    identifiers.set(id, parsed);
  }
  return parsed;
}

/**
 * The signature base of `components` under `parameters` (RFC 9421 §2.5) and the `@signature-params`
 * value, which is also the member to send in `Signature-Input`. Throws a ComponentError naming the
 * first component the request cannot give. `ids` are the components' identifiers (componentId),
 * when the caller has them already.
 *
 * http-message-signatures is handed only the fields the signature covers: it finds a field by
 * scanning every header it is given, once per covered field, and a request has many more
 * headers than a signature covers.
 */
export function signatureBase(
  request: CanonicalRequest,
  components: readonly Item[],
  parameters: Parameters,
  ids: readonly string[] = components.map(componentId),
): { base: string; signatureParams: string } {
  const covered: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name] of components) {
    const field = request.headers[name as string];
    if (typeof name === 'string' && !name.startsWith('@') && field !== undefined) covered[name] = field;
  }
  const narrowed = { method: request.method, url: request.url, headers: covered };
  let base = '';
  for (const id of ids) {
    const { name, parameters: fieldParameters, prefix } = parsedIdentifier(id);
    let values: string[];
    try {
      values = name.startsWith('@')
        ? httpbis.deriveComponent(name, fieldParameters, narrowed)
        : httpbis.extractHeader(name, fieldParameters, narrowed);
    } catch (error) {
      throw new ComponentError(id, error instanceof Error ? error.message : String(error));
    }
    // formatSignatureBase's layout (RFC 9421 §2.5): a line per value, `identifier: value`, joined by LF.
    for (const value of values) base += prefix + value + '\n';
  }
  // serializeInnerList's own text — `(` items `)` parameters, RFC 8941 §4.1.1.1 — from the items'
  // serializations already in hand, rather than serializing every item once more.
  const signatureParams = `(${ids.join(' ')})${serializeParameters(parameters)}`;
  return { base: base + parsedIdentifier('"@signature-params"').prefix + signatureParams, signatureParams };
}
