import type { Middleware } from 'koa';
import type { ApiKeyVerifier } from '../api-keys/api-key-verifier.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import type { Metrics } from '../metrics/metrics.js';
import { looksLikeApiKey } from '@tollgate/resource-server/api-key-format';
import { parseRate, type Rate } from '../lib/rate.js';
import { LIMIT_NAMES, type RefusalCounter } from '../limits/limit-names.js';
import type { Grant, RateLimit } from '../limits/rate-limit.js';
import { audiencesOf, receiveQuestion, type Parameters, type Problem } from './question-body.js';

/**
 * The parameters: `token` (the key, RFC 7662's name) once; `audience` (the asking API's
 * identifiers) once or more; `consume` at most once, `1` (the default: count this request against
 * the key's rate limit and grant points) or `0` (only verify: the API still holds granted points).
 */
interface Question {
  token: string;
  audiences: string[];
  consume: boolean;
}

function question(get: Parameters): Question | Problem {
  const token = get('token');
  const consume = get('consume');
  if (token.length !== 1 || typeof token[0] !== 'string') return { problem: 'send the API key once, as token' };
  const audiences = audiencesOf(get);
  if ('problem' in audiences) return audiences;
  if (consume.length > 1 || (consume.length === 1 && !['0', '1', 0, 1].includes(consume[0] as string)))
    return { problem: 'consume must be 0 or 1, at most once' };
  return { token: token[0], audiences, consume: consume.length === 0 || String(consume[0]) === '1' };
}

/** The answer's rate-limit fields, when points were granted (or refused) for this question. */
function grantFields(grant: Grant | undefined) {
  return grant
    ? {
        rate_limit_granted: grant.granted,
        rate_limit_remaining: grant.remaining,
        rate_limit_reset: grant.resetSeconds,
      }
    : {};
}

export interface ApiKeyVerificationOptions {
  paths: Pick<Paths, 'apiKeyVerification'>;
  verifier: ApiKeyVerifier;
  metrics: Metrics;
  /** The per-key limits (`api-keys … --rate-limit`), taken in leases: limitsByRate(…, { lease: true }). */
  keyLimits: (rate: Rate) => RateLimit;
  /** Per client address, questions answered inactive; made with `blockInMemory`. */
  failures: RateLimit;
  refused: RefusalCounter;
}

/**
 * `POST {issuer}/api-keys/verify`, advertised in discovery as `api_key_verification_endpoint`: an
 * API asks whether a key a caller presented is valid for it. Modelled on RFC 7662 introspection:
 * a well-formed question always gets 200 — `{active: true, …}` only when the key is valid and
 * its scopes reach the asking API, else exactly `{active: false}`, whatever the reason
 * (malformed, wrong checksum, unknown, revoked, expired, rotated out, client disabled or deleted,
 * another API's key). A 401 would describe the asking API's own credentials (RFC 7662 §2.3),
 * and the API has none: it configures only issuer and audience. The API's library turns
 * `active: false` into its own 401 invalid_token. Only a question without its parameters is a
 * 400 invalid_request. Never cached (no-store). The request log never sees the body, where the
 * key is (src/http/request-log.ts logs method, route, status, duration and address only).
 *
 * A key's rate limit binds requests Tollgate never sees (the partner's calls to the API), so the
 * API's library counts them here: each question with `consume=1` takes a lease of points from the
 * shared counter (rate-limit.ts, leaseSize: 2 % of the limit) and grants them to the asking API,
 * which spends them on its own and asks again when they run out (`rate_limit_granted` 0: the
 * limit is reached, until `rate_limit_reset`). Every instance of every API and of Tollgate counts
 * in one place: the rate-limit store.
 *
 * Not an oracle: a key is 256 random bits, so guessing is hopeless, but an address whose
 * questions keep coming back inactive for well-formed keys (API_KEY_VERIFICATION_FAILURE_LIMIT)
 * gets 429 until the window ends. Malformed and wrong-checksum keys do not count: they cost no
 * look-up, and an API's library refuses them without asking.
 */
export function apiKeyVerification(options: ApiKeyVerificationOptions): Middleware {
  const { paths, verifier, metrics, keyLimits, failures, refused } = options;
  return gated(
    (ctx) => ctx.path === paths.apiKeyVerification,
    async (ctx) => {
      const asked = await receiveQuestion(ctx, {
        failures,
        refused,
        limitName: LIMIT_NAMES.apiKeyVerificationFailures,
        expected: 'token and audience',
        read: question,
      });
      if (!asked) return;
      const verified = await verifier.verify(asked.token, asked.audiences);
      // Why a key was refused stays out of the label as it stays out of the answer.
      metrics.apiKeyVerifications.inc({ result: verified ? 'valid' : 'invalid' });
      if (!verified) {
        if (looksLikeApiKey(asked.token)) await failures.take(ctx.ip);
        ctx.body = { active: false };
        return;
      }
      const grant =
        asked.consume && verified.rateLimit
          ? await keyLimits(parseRate(verified.rateLimit)).grant(verified.keyId)
          : undefined;
      if (grant?.granted === 0) refused(LIMIT_NAMES.apiKey);
      ctx.body = {
        active: true,
        client_id: verified.clientId,
        sub: verified.clientId,
        scope: verified.scopes.join(' '),
        aud: asked.audiences.length === 1 ? asked.audiences[0] : verified.audience,
        key_id: verified.keyId,
        token_type: 'api_key',
        ...(verified.expiresAt ? { exp: Math.floor(verified.expiresAt.getTime() / 1000) } : {}),
        ...(verified.rateLimit ? { rate_limit: verified.rateLimit } : {}),
        ...grantFields(grant),
      };
    },
  );
}
