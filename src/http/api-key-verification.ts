import type { Context, Middleware } from 'koa';
import type { ApiKeyVerifier } from '../api-keys/api-key-verifier.js';
import { isUtf8Text } from '../lib/acceptable-text.js';
import { TollgateError } from '../lib/errors.js';
import { sendErrorResponse } from '../web/error-response.js';
import { MAX_FORM_BYTES, peekForm } from '../web/form-peek.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import type { Metrics } from '../metrics/metrics.js';
import { readLimitedBody } from '../web/read-body.js';

/** The two parameters, each once: `token` (the key, RFC 7662's name) and `audience` (the asking API's identifier). */
type Question = { token: string; audience: string } | { problem: string };

function question(get: (name: string) => unknown[]): Question {
  const token = get('token');
  const audience = get('audience');
  if (token.length !== 1 || typeof token[0] !== 'string') return { problem: 'send the API key once, as token' };
  if (audience.length !== 1 || typeof audience[0] !== 'string' || !audience[0])
    return { problem: "send the API's identifier once, as audience" };
  return { token: token[0], audience: audience[0] };
}

async function readQuestion(ctx: Context): Promise<Question | undefined> {
  if (ctx.is('application/x-www-form-urlencoded')) {
    const form = await peekForm(ctx);
    return form && question((name) => form.getAll(name));
  }
  if (ctx.is('application/json')) {
    const bytes = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
    if (!bytes) return { problem: 'the request body is too large' };
    let document: unknown;
    try {
      document = isUtf8Text(bytes) ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      document = undefined;
    }
    if (!document || typeof document !== 'object' || Array.isArray(document))
      return { problem: 'the request body must be a JSON object' };
    const members = document as Record<string, unknown>;
    return question((name) => (name in members ? [members[name]] : []));
  }
  return { problem: 'send token and audience as application/x-www-form-urlencoded or application/json' };
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
 */
export function apiKeyVerification(options: {
  paths: Pick<Paths, 'apiKeyVerification'>;
  verifier: ApiKeyVerifier;
  metrics: Metrics;
}): Middleware {
  const { paths, verifier, metrics } = options;
  return gated(
    (ctx) => ctx.path === paths.apiKeyVerification,
    async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      if (ctx.method !== 'POST') {
        sendErrorResponse(
          ctx,
          new TollgateError(405, 'invalid_request', `${ctx.method} is not allowed here: POST the question`, {
            headers: { Allow: 'POST' },
          }),
        );
        return;
      }
      const asked = await readQuestion(ctx);
      if (!asked) return; // too large a form: peekForm answered
      if ('problem' in asked) {
        sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', asked.problem));
        return;
      }
      const verified = await verifier.verify(asked.token, asked.audience);
      // Why a key was refused stays out of the label as it stays out of the answer.
      metrics.apiKeyVerifications.inc({ result: verified ? 'valid' : 'invalid' });
      ctx.body = verified
        ? {
            active: true,
            client_id: verified.clientId,
            sub: verified.clientId,
            scope: verified.scopes.join(' '),
            aud: asked.audience,
            key_id: verified.keyId,
            token_type: 'api_key',
            ...(verified.expiresAt ? { exp: Math.floor(verified.expiresAt.getTime() / 1000) } : {}),
            ...(verified.rateLimit ? { rate_limit: verified.rateLimit } : {}),
          }
        : { active: false };
    },
  );
}
