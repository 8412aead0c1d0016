import { InvalidRequestError, MissingTokenError, type Scheme } from './errors.js';

export interface Credentials {
  token: string;
  /** The scheme it came with; `undefined` when the caller passed a bare token. */
  scheme: Scheme | undefined;
}

/** RFC 6750 §2.1 b64token / RFC 7235 token68: what may follow the scheme. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads an `Authorization` header value — or a bare token — into the token and its scheme.
 * A header for another scheme (Basic, …) means no credentials for us: 401 without an error code
 * (RFC 6750 §3.1). A Bearer or DPoP header that is not exactly one token is malformed: 400.
 */
export function parseCredentials(input: string | null | undefined): Credentials {
  if (input === undefined || input === null || input === '') throw new MissingTokenError();
  if (typeof input !== 'string') throw new InvalidRequestError('the access token must be a string');
  const space = input.indexOf(' ');
  if (space === -1) {
    const lower = input.toLowerCase();
    if (lower === 'bearer' || lower === 'dpop')
      throw new InvalidRequestError(`the ${input} credentials carry no token`);
    if (!TOKEN68.test(input)) throw new InvalidRequestError('the access token is malformed');
    return { token: input, scheme: undefined };
  }
  const name = input.slice(0, space).toLowerCase();
  const scheme: Scheme | undefined = name === 'bearer' ? 'Bearer' : name === 'dpop' ? 'DPoP' : undefined;
  if (scheme === undefined) {
    if (name === '') throw new InvalidRequestError('the Authorization header is malformed');
    throw new MissingTokenError(`the ${input.slice(0, space)} scheme is not accepted here`);
  }
  // RFC 7235 allows several spaces after the scheme; nothing may follow the token.
  const token = input.slice(space + 1).trimStart();
  if (token === '') throw new InvalidRequestError(`the ${scheme} credentials carry no token`);
  if (!TOKEN68.test(token)) throw new InvalidRequestError(`the ${scheme} credentials must be exactly one token`);
  return { token, scheme };
}
