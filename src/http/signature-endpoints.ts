import type { Context, Middleware } from 'koa';
import { HMAC_ALGORITHM } from '../lib/client-public-key.js';
import { TollgateError } from '../lib/errors.js';
import type { Logger } from '../log.js';
import { RepeatedLog } from '../lib/repeated-log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SignatureKey, SignatureKeys } from '../clients/signature-keys.js';
import { looksLikeKeyid } from '../clients/signature-keys.js';
import { LIMIT_NAMES, type RefusalCounter } from '../limits/limit-names.js';
import { nonceExpiry, SIGNATURE_WINDOW_SECONDS, type NonceStore } from '../limits/nonce-store.js';
import type { RateLimit } from '../limits/rate-limit.js';
import { sendErrorResponse } from '../web/error-response.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { audiencesOf, receiveQuestion, type Parameters, type Problem } from './question-body.js';

const MAX_NONCE_LENGTH = 256;
const MAX_SIGNATURE_BASE_BYTES = 16 * 1024;
/** The base64 of an RSA 8192 signature (1 KiB) with room; HMAC's is 44 characters. */
const MAX_SIGNATURE_LENGTH = 2048;
/** How long an API may keep a lookup's answer: a removed key or disabled client stops within it. */
const CACHE_SECONDS = 5;
/** RFC 8941 sf-string: printable ASCII; a nonce is one. */
const NONCE = /^[\x20-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INTEGER = /^-?\d{1,15}$/;

function one(get: Parameters, name: string): string | undefined {
  const values = get(name);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/** keyid once, audience 1–20 times: what both endpoints ask. */
function keyQuestion(get: Parameters): { keyid: string; audiences: string[] } | Problem {
  const keyid = one(get, 'keyid');
  if (keyid === undefined) return { problem: 'send the key id once, as keyid' };
  const audiences = audiencesOf(get);
  return 'problem' in audiences ? audiences : { keyid, audiences };
}

interface VerifyQuestion {
  keyid: string;
  audiences: string[];
  nonce: string;
  created: number;
  /** Both present (an HMAC key's signature to check) or both absent (a public key's nonce to record). */
  hmac: { signatureBase: string; signature: Buffer } | undefined;
}

function verifyQuestion(get: Parameters): VerifyQuestion | Problem {
  const asked = keyQuestion(get);
  if ('problem' in asked) return asked;
  const nonce = one(get, 'nonce');
  if (nonce === undefined || nonce.length > MAX_NONCE_LENGTH || !NONCE.test(nonce))
    return {
      problem: `send the signature's nonce once, as nonce (1 to ${MAX_NONCE_LENGTH} printable ASCII characters)`,
    };
  const created = get('created');
  const seconds =
    created.length !== 1
      ? undefined
      : typeof created[0] === 'number'
        ? created[0]
        : typeof created[0] === 'string' && INTEGER.test(created[0])
          ? Number(created[0])
          : undefined;
  if (seconds === undefined || !Number.isSafeInteger(seconds))
    return { problem: "send the signature's created once, as created (integer seconds)" };
  const [baseValues, signatureValues] = [get('signature_base'), get('signature')];
  if (baseValues.length === 0 && signatureValues.length === 0)
    return { ...asked, nonce, created: seconds, hmac: undefined };
  const signatureBase = one(get, 'signature_base');
  const signature = one(get, 'signature');
  if (signatureBase === undefined || Buffer.byteLength(signatureBase, 'utf8') > MAX_SIGNATURE_BASE_BYTES)
    return { problem: `send signature_base once (at most ${MAX_SIGNATURE_BASE_BYTES} bytes) with signature` };
  if (signature === undefined || signature.length > MAX_SIGNATURE_LENGTH || signature === '' || !BASE64.test(signature))
    return { problem: 'send signature once (base64 of the signature bytes) with signature_base' };
  return { ...asked, nonce, created: seconds, hmac: { signatureBase, signature: Buffer.from(signature, 'base64') } };
}

/** The answer's fields for an accepted key (the lookup adds the public JWK). */
function keyFields(key: SignatureKey, audiences: string[]) {
  return {
    active: true,
    keyid: key.keyid,
    alg: key.alg,
    client_id: key.clientId,
    sub: key.clientId,
    scope: key.scopes.join(' '),
    aud: audiences.length === 1 ? audiences[0] : key.audience,
  };
}

export interface SignatureEndpointsOptions {
  paths: Pick<Paths, 'signatureKeyLookup' | 'signatureVerification'>;
  keys: SignatureKeys;
  nonces: NonceStore;
  metrics: Metrics;
  logger: Logger;
  /** Per client address, questions answered inactive (both endpoints); made with `blockInMemory`. */
  failures: RateLimit;
  refused: RefusalCounter;
}

/**
 * Refused: exactly `{active: false}`, whatever the reason, like RFC 7662. A keyid that is not of
 * a keyid's shape costs no look-up and does not count against the address (an API's library
 * refuses it without asking); any other refusal does (SIGNATURE_VERIFICATION_FAILURE_LIMIT).
 */
async function inactive(ctx: Context, failures: RateLimit, keyid: string): Promise<void> {
  if (looksLikeKeyid(keyid)) await failures.take(ctx.ip);
  ctx.body = { active: false };
}

/**
 * The two endpoints of signed requests (issue 18; RFC 9421), for an API's library verifying a
 * partner's signature. Like the API-key endpoint (src/http/api-key-verification.ts): POST a form
 * or JSON; a well-formed question gets 200 `{active: true, …}` or exactly `{active: false}`; a
 * malformed one 400 invalid_request; never cached; the body (where a signature base is) never
 * logged (the request log has method, route, status, duration and address only).
 *
 * `POST {issuer}/signature-keys/lookup` (discovery `signature_key_lookup_endpoint`): the key of a
 * keyid, with its public JWK when it has one — the API verifies public-key signatures itself and
 * may keep the answer `cache_seconds` (5): a removed key stops being answered at once, so it
 * stops working within those 5 s.
 *
 * `POST {issuer}/signatures/verify` (discovery `signature_verification_endpoint`): an HMAC key's
 * signature checked here, where its secret stays, and, for every key, the signature's nonce
 * recorded so a replay is refused on every instance of every API. The nonce is recorded last,
 * only when everything else passed: a forged or malformed request cannot burn a partner's
 * genuine nonce. If the store cannot record it: 503 — never `active: true` unrecorded.
 */
export function signatureEndpoints(options: SignatureEndpointsOptions): Middleware {
  const { paths, keys, nonces, metrics, failures, refused } = options;
  const rules = { failures, refused, limitName: LIMIT_NAMES.signatureVerificationFailures, expected: 'the question' };
  // A store away fails every question the same way: one line per interval, not one per request.
  const log = new RepeatedLog(options.logger);
  return gated(
    (ctx) => ctx.path === paths.signatureKeyLookup || ctx.path === paths.signatureVerification,
    async (ctx) => {
      if (ctx.path === paths.signatureKeyLookup) {
        const asked = await receiveQuestion(ctx, { ...rules, read: keyQuestion });
        if (!asked) return;
        const key = await keys.lookup(asked.keyid, asked.audiences);
        if (!key) return inactive(ctx, failures, asked.keyid);
        ctx.body = {
          ...keyFields(key, asked.audiences),
          ...(key.jwk ? { jwk: key.jwk } : {}),
          cache_seconds: CACHE_SECONDS,
        };
        return;
      }

      const asked = await receiveQuestion(ctx, { ...rules, read: verifyQuestion });
      if (!asked) return;
      const { key, secret } = await keys.lookupWithSecret(asked.keyid, asked.audiences);
      const isHmac = key?.alg === HMAC_ALGORITHM;
      if (key && isHmac !== (asked.hmac !== undefined)) {
        sendErrorResponse(
          ctx,
          new TollgateError(
            400,
            'invalid_request',
            isHmac
              ? 'an hmac-sha256 key is verified here: send signature_base and signature'
              : 'a public key is verified by the API: send no signature_base or signature, only the nonce to record',
          ),
        );
        return;
      }
      // Every check runs, whatever the first one said (the same path for every refusal).
      const signed = asked.hmac ? keys.hmacMatches(secret, asked.hmac.signatureBase, asked.hmac.signature) : true;
      const timely = Math.abs(Date.now() / 1000 - asked.created) <= SIGNATURE_WINDOW_SECONDS;
      if (!key || !signed || !timely) {
        metrics.signatureVerifications.inc({ result: 'invalid' });
        return inactive(ctx, failures, asked.keyid);
      }
      let recorded: boolean;
      try {
        recorded = await nonces.record(key.keyid, asked.nonce, nonceExpiry(asked.created));
      } catch (error) {
        // Fail closed: a replay check skipped would let a captured request through again.
        metrics.signatureVerifications.inc({ result: 'unavailable' });
        log.warn(
          'signature-nonce-store',
          { reason: (error as Error).message },
          'recording a signature nonce failed: 503',
        );
        sendErrorResponse(
          ctx,
          new TollgateError(503, 'temporarily_unavailable', 'the nonce store is unavailable; retry in a few seconds', {
            headers: { 'Retry-After': '5' },
          }),
        );
        return;
      }
      if (!recorded) {
        metrics.signatureVerifications.inc({ result: 'replayed' });
        return inactive(ctx, failures, asked.keyid);
      }
      metrics.signatureVerifications.inc({ result: 'valid' });
      ctx.body = { ...keyFields(key, asked.audiences), cache_seconds: CACHE_SECONDS };
    },
  );
}
