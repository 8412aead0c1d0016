import { parseDictionary, type Dictionary, type Item } from 'structured-headers';
import { contentDigestMismatch } from './content-digest.js';
import { ACCEPT_SIGNATURE, ACCEPT_SIGNATURE_WITH_BODY, InvalidSignatureError } from './errors.js';
import type { ReplayCache } from './replay-cache.js';
import { readHeader, type HttpRequest } from './request.js';
import { ComponentError, componentId, headerRecord, signatureBase, targetUrl } from './signature-base.js';
import { isSignatureAlgorithm, type SignatureAlgorithm, type SignatureKey } from './signature-algorithms.js';

/**
 * Verifies an RFC 9421 signed request. http-message-signatures builds the signature base; what it
 * leaves to its caller is done here: exactly one signature, the components it must cover, the
 * body against `Content-Digest`, `created` within the window either way, `expires`, a `nonce`
 * never seen before, a known `keyid` whose algorithm matches `alg`, and bounds on everything read.
 * (Its own verifyMessage is not used: it accepts a request when any one of several signatures
 * verifies, swallowing the others' errors, and refuses future `created` only with no tolerance.)
 */

export interface SignatureVerificationOptions {
  /**
   * The key a `keyid` names, or `undefined` when there is none (unknown or removed: 401). Its own
   * errors propagate: a ResourceServerError such as IssuerUnavailableError is how a resolver that
   * asks Tollgate says 503.
   */
  resolveKey(keyid: string): SignatureKey | undefined | Promise<SignatureKey | undefined>;
  /** Where nonces are remembered for the window; shared by every instance of the API. */
  replayCache: ReplayCache;
  /** The current time in seconds since the epoch. Default: the clock. The replay cache keeps its own. */
  now?: number;
  /** How far `created` may be from now, in seconds, either way. Default 300 (the contract's). */
  window?: number;
}

/** What an API keeps as evidence of who sent what (with an asymmetric key, proof of origin). */
export interface VerifiedSignature {
  /** The signature's label in `Signature-Input` and `Signature`. */
  label: string;
  keyid: string;
  alg: SignatureAlgorithm;
  /** Seconds since the epoch. */
  created: number;
  expires?: number;
  nonce: string;
  /** The covered components' identifiers, in order (`"@method"`, `"content-digest"`…). */
  components: string[];
  /** The exact bytes that were signed (UTF-8), RFC 9421 §2.5. */
  signatureBase: string;
  /** The signature, base64 as in the `Signature` header. */
  signature: string;
  /** The `Signature-Input` member as verified (`sig1=(…);created=…`). */
  signatureInput: string;
}

/** Bounds on what is read, so that a giant header costs a length check and nothing more. */
const MAX_HEADER_LENGTH = 8192;
/** Far more than any real signature covers; each costs a component derivation. */
const MAX_COMPONENTS = 32;
/** As for DPoP's jti: refuse values too large to be worth remembering. */
const MAX_PARAMETER_LENGTH = 256;
/** RSA 8192 is 1 KB; nothing this library verifies is larger. */
const MAX_SIGNATURE_BYTES = 1024;
const DEFAULT_WINDOW = 300;

/**
 * RFC 9421 §2.1's parameters for a request's own fields. Derived components take none but
 * `@query-param`'s `name` (§2.2.8); `req` and `tr` (a related request, trailers) do not apply here,
 * and http-message-signatures would read `tr` from the headers.
 */
const FIELD_PARAMETERS: ReadonlySet<string> = new Set(['sf', 'key', 'bs']);

function refuse(description: string, body = false): never {
  throw new InvalidSignatureError(description, body ? ACCEPT_SIGNATURE_WITH_BODY : ACCEPT_SIGNATURE);
}

/** The one value of a header, or `undefined`; a header sent twice is refused, not combined. */
function single(request: HttpRequest, name: string, display: string, body: boolean): string | undefined {
  const value = readHeader(request.headers, name);
  if (value === undefined || typeof value === 'string') return value;
  if (value.length > 1) refuse(`send one ${display} header`, body);
  return value[0];
}

/**
 * Members of a dictionary as sent, which parseDictionary does not tell: it keeps the last of two
 * equal keys. Counts the top-level commas outside strings (a valid dictionary has them nowhere
 * else), so `sig1=…, sig1=…` — two headers Node or fetch joined — shows as two members.
 */
function memberCount(value: string): number {
  let count = 1;
  let inString = false;
  let display = false;
  for (let index = 0; index < value.length; index += 1) {
    const char = value[index];
    if (inString) {
      if (char === '\\' && !display) index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      display = value[index - 1] === '%';
    } else if (char === ',') {
      count += 1;
    }
  }
  return count;
}

function dictionary(value: string, display: string, body: boolean): Dictionary {
  if (value.length > MAX_HEADER_LENGTH) refuse(`the ${display} header is too large`, body);
  let parsed: Dictionary;
  try {
    parsed = parseDictionary(value);
  } catch {
    refuse(`the ${display} header is not a valid structured field dictionary`, body);
  }
  if (parsed.size === 0) refuse(`the ${display} header is empty`, body);
  if (memberCount(value) !== parsed.size) refuse(`a label appears twice in ${display}`, body);
  return parsed;
}

/** Whether the request has a body that must be signed: one passed in, or one its headers announce. */
export function hasBody(request: HttpRequest): boolean {
  if (request.body !== undefined && request.body.length > 0) return true;
  const length = readHeader(request.headers, 'content-length');
  const announced = typeof length === 'string' ? Number(length) : 0;
  return announced > 0 || readHeader(request.headers, 'transfer-encoding') !== undefined;
}

function stringParameter(parameters: Map<string, unknown>, name: string, body: boolean): string | undefined {
  const value = parameters.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PARAMETER_LENGTH)
    refuse(`the signature's ${name} must be a string of 1 to ${MAX_PARAMETER_LENGTH} characters`, body);
  return value;
}

function timeParameter(parameters: Map<string, unknown>, name: string, body: boolean): number | undefined {
  const value = parameters.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    refuse(`the signature's ${name} must be an integer`, body);
  return value;
}

/**
 * The covered components, checked (strings, lower-case, no duplicate, parameters that apply to a
 * request), and their identifiers in order.
 */
function coveredComponents(items: Item[], body: boolean): { components: Item[]; ids: string[] } {
  if (items.length > MAX_COMPONENTS) refuse(`a signature may cover at most ${MAX_COMPONENTS} components`, body);
  const seen = new Set<string>();
  for (const item of items) {
    const [name, parameters] = item;
    if (typeof name !== 'string') refuse('covered components must be strings', body);
    if (name !== name.toLowerCase()) refuse(`the component name ${JSON.stringify(name)} must be lower-case`, body);
    if (name === '@signature-params') refuse('@signature-params cannot be a covered component', body);
    for (const parameter of parameters.keys()) {
      const applies = name.startsWith('@')
        ? name === '@query-param' && parameter === 'name'
        : FIELD_PARAMETERS.has(parameter);
      if (!applies) refuse(`the component parameter ${JSON.stringify(parameter)} is not supported on ${name}`, body);
    }
    const id = componentId(item);
    if (seen.has(id)) refuse(`the component ${id} is covered twice`, body);
    seen.add(id);
  }
  return { components: items, ids: [...seen] };
}

/**
 * Resolves to the evidence of a valid signature, or rejects with an InvalidSignatureError (401)
 * saying why not. One signature only: `Signature-Input` and `Signature` must each carry exactly one
 * label, the same; a label in one header only, or several signatures, are refused rather than
 * choosing one (which one would say who is calling?).
 */
export async function verifySignedRequest(
  request: HttpRequest,
  options: SignatureVerificationOptions,
): Promise<VerifiedSignature> {
  if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
  if (typeof options?.resolveKey !== 'function') throw new TypeError('resolveKey must be a function');
  if (typeof options.replayCache?.use !== 'function') throw new TypeError('replayCache must be a ReplayCache');
  const window = options.window ?? DEFAULT_WINDOW;
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 0)
    throw new TypeError('window must be a non-negative number of seconds');
  const now = options.now ?? Date.now() / 1000;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a number of seconds');

  const body = hasBody(request);
  const inputHeader = single(request, 'signature-input', 'Signature-Input', body);
  const signatureHeader = single(request, 'signature', 'Signature', body);
  if (inputHeader === undefined && signatureHeader === undefined) refuse('the request is not signed', body);
  if (inputHeader === undefined) refuse('the request has a Signature but no Signature-Input header', body);
  if (signatureHeader === undefined) refuse('the request has a Signature-Input but no Signature header', body);
  const inputs = dictionary(inputHeader, 'Signature-Input', body);
  const signatures = dictionary(signatureHeader, 'Signature', body);
  for (const label of inputs.keys())
    if (!signatures.has(label)) refuse(`the label ${label} is in Signature-Input but not in Signature`, body);
  for (const label of signatures.keys())
    if (!inputs.has(label)) refuse(`the label ${label} is in Signature but not in Signature-Input`, body);
  if (inputs.size > 1) refuse('the request carries several signatures: send one', body);
  const [label, input] = [...inputs][0]!;
  const signed = signatures.get(label)!;

  if (!Array.isArray(input[0])) refuse('the Signature-Input member must be a list of components', body);
  const { components, ids: componentIds } = coveredComponents(input[0], body);
  const parameters = input[1];
  if (!(signed[0] instanceof ArrayBuffer)) refuse('the Signature member must be a byte sequence (:base64:)', body);
  const signature = new Uint8Array(signed[0] as ArrayBuffer);
  if (signature.length === 0 || signature.length > MAX_SIGNATURE_BYTES)
    refuse('the signature has an impossible length', body);

  const ids = new Set(componentIds);
  for (const required of ['"@method"', '"@target-uri"', ...(body ? ['"content-digest"'] : [])])
    if (!ids.has(required)) refuse(`the signature must cover ${required.slice(1, -1)}`, body);

  const keyid = stringParameter(parameters, 'keyid', body);
  const nonce = stringParameter(parameters, 'nonce', body);
  const alg = stringParameter(parameters, 'alg', body);
  const created = timeParameter(parameters, 'created', body);
  const expires = timeParameter(parameters, 'expires', body);
  if (keyid === undefined) refuse('the signature has no keyid', body);
  if (nonce === undefined) refuse('the signature has no nonce', body);
  if (created === undefined) refuse('the signature has no created time', body);
  if (alg !== undefined && !isSignatureAlgorithm(alg)) refuse(`the algorithm ${alg} is not supported`, body);
  // Symmetric: a signature from the future is as suspect as a stale one (a clock set ahead would
  // otherwise mint signatures that stay valid for longer than the window).
  if (Math.abs(now - created) > window) refuse('the signature was created too long ago or in the future', body);
  if (expires !== undefined && now > expires) refuse('the signature has expired', body);

  const url = targetUrl(request.url);
  if (url === undefined) refuse('the request URL is not an absolute http(s) URL', body);
  if (ids.has('"content-digest"')) {
    const digest = single(request, 'content-digest', 'Content-Digest', body);
    if (digest === undefined) refuse('the signature covers content-digest and the request has none', body);
    if (digest.length > MAX_HEADER_LENGTH) refuse('the Content-Digest header is too large', body);
    const mismatch = contentDigestMismatch(digest, request.body);
    if (mismatch !== undefined) refuse(mismatch, body);
  }

  const key = await options.resolveKey(keyid);
  if (key === undefined || key === null) refuse(`unknown key ${keyid}`, body);
  if (!isSignatureAlgorithm(key.alg)) refuse(`the key ${keyid} has an unsupported algorithm`, body);
  if (alg !== undefined && alg !== key.alg) refuse(`the key ${keyid} is not a ${alg} key`, body);

  let built;
  try {
    built = signatureBase(
      { method: request.method, url, headers: headerRecord(request.headers) },
      components,
      parameters,
      componentIds,
    );
  } catch (error) {
    if (error instanceof ComponentError)
      refuse(`the covered component ${error.component} is not in the request or cannot be derived from it`, body);
    throw error;
  }
  const base = Buffer.from(built.base, 'utf8');
  if (!(await key.verify(base, signature))) refuse('the signature does not verify', body);

  // Last, so that a request failing any other check cannot burn the nonce of a genuine one.
  const replayKey = `signature:${JSON.stringify([keyid, nonce])}`;
  if (!(await options.replayCache.use(replayKey, (created + window) * 1000)))
    refuse('the nonce has been used before', body);

  const result: VerifiedSignature = {
    label,
    keyid,
    alg: key.alg,
    created,
    nonce,
    components: [...ids],
    signatureBase: built.base,
    signature: Buffer.from(signature).toString('base64'),
    signatureInput: `${label}=${built.signatureParams}`,
  };
  if (expires !== undefined) result.expires = expires;
  return result;
}
