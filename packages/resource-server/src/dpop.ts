import { hash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { InvalidDPoPProofError, InvalidTokenError } from './errors.js';
import type { ReplayCache } from './replay-cache.js';

/** The request a DPoP proof must be bound to (RFC 9449 §4.2 `htm`, `htu`). */
export interface DPoPRequest {
  /** The `DPoP` header value(s) as received; several values are refused. */
  proof: string | readonly string[] | undefined;
  /** The HTTP method, e.g. `GET`. */
  method: string;
  /** The URL the client called, as the client saw it (scheme and host before any proxy). */
  url: string | URL;
}

export interface DPoPSettings {
  algorithms: readonly string[];
  /** Seconds a proof's `iat` may be from now, either way. */
  iatWindow: number;
  replayCache: ReplayCache;
}

/** RFC 9449 §11.1: refuse unnecessarily large jti values rather than remember them. */
const MAX_JTI_LENGTH = 256;

/** RFC 9449 §4.3 step 9: compare without query and fragment, after RFC 3986 normalisation. */
function normalizeHtu(value: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.origin}${url.pathname}`;
}

function single(proof: DPoPRequest['proof']): string {
  const values = typeof proof === 'string' ? [proof] : (proof ?? []);
  if (values.length === 0 || values[0] === '')
    throw new InvalidTokenError('the token is DPoP-bound and the request has no DPoP proof');
  // Node joins repeated unknown headers with ", "; a compact JWS never contains a comma.
  if (values.length > 1 || values[0]!.includes(','))
    throw new InvalidDPoPProofError('the request has more than one DPoP header');
  return values[0]!;
}

/**
 * Checks a DPoP proof against the request and the access token it accompanies (RFC 9449 §4.3 and
 * §7.1): one well-formed `dpop+jwt` signed with an asymmetric algorithm by the public key it embeds,
 * `htm` and `htu` of this request, `iat` within the window, `ath` of this token, the key's thumbprint
 * equal to the token's `cnf.jkt`, and a `jti` never seen before — recorded only once everything
 * else holds, so a proof that fails another check cannot burn the jti of a genuine one.
 */
export async function verifyDPoPProof(
  request: DPoPRequest,
  accessToken: string,
  jkt: string,
  settings: DPoPSettings,
): Promise<void> {
  const proof = single(request.proof);
  let header: { jwk?: JWK };
  let claims: Record<string, unknown>;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...settings.algorithms] });
    header = verified.protectedHeader;
    claims = verified.payload;
  } catch (cause) {
    throw new InvalidDPoPProofError('the DPoP proof is not a valid dpop+jwt', { cause });
  }

  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
    throw new InvalidDPoPProofError('the DPoP proof has no usable jti');
  if (htm !== request.method) throw new InvalidDPoPProofError('the DPoP proof is for another HTTP method');
  const expectedHtu = normalizeHtu(request.url);
  if (typeof htu !== 'string' || expectedHtu === undefined || normalizeHtu(htu) !== expectedHtu) {
    throw new InvalidDPoPProofError('the DPoP proof is for another URL');
  }
  const now = Date.now() / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidDPoPProofError('the DPoP proof has no iat');
  if (Math.abs(now - iat) > settings.iatWindow)
    throw new InvalidDPoPProofError('the DPoP proof is stale or from the future');
  if (typeof ath !== 'string' || ath !== hash('sha256', accessToken, 'base64url')) {
    throw new InvalidDPoPProofError('the DPoP proof is not for this access token');
  }
  if ((await calculateJwkThumbprint(header.jwk as JWK, 'sha256')) !== jkt) {
    // RFC 9449 §7.1's own example answers a key mismatch with invalid_token.
    throw new InvalidTokenError('invalid DPoP key binding');
  }
  const firstUse = await settings.replayCache.use(`${jkt}:${jti}`, (iat + settings.iatWindow) * 1000);
  if (!firstUse) throw new InvalidDPoPProofError('the DPoP proof has been used before');
}
