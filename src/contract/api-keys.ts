import { z } from 'zod';
import { formatRate, parseRate } from '../lib/rate.js';
import { integer, list, optional, optionalText, requiredText } from './wire-fields.js';
import { refuse } from './wording.js';

/** Ten years: a longer-lived key is a key nobody will remember to rotate. */
export const MAX_API_KEY_DAYS = 3650;
/** Thirty days: long enough to redeploy anything; a rotation is not a way to keep two keys forever. */
export const MAX_ROTATION_GRACE_SECONDS = 30 * 86_400;

const rateLimit = optional(
  requiredText(32).transform((text, ctx) => {
    try {
      return formatRate(parseRate(text));
    } catch (error) {
      return refuse(ctx, (field) => `${field}: ${(error as Error).message}`);
    }
  }),
).meta({ description: 'at most this many requests with the key: N/s, N/min or N/h' });

/** POST /api-keys */
export const createApiKeyBody = z
  .strictObject({
    client_id: requiredText(200, {
      missing: (field) => `${field} is required: the client (partner) the key is for`,
    }).meta({
      description: 'the client (partner application) the key belongs to',
    }),
    scopes: list({
      maxItems: 200,
      wording: { missing: (field) => `${field} is required, e.g. "orders:read"` },
    }).meta({ description: 'scopes the client is allowed; they decide the API(s) the key is for' }),
    name: optionalText().meta({ description: 'a name people recognise the key by' }),
    expires_in_days: optional(integer(1, MAX_API_KEY_DAYS)).meta({
      description: 'the key stops working after this many days',
    }),
    rate_limit: rateLimit,
  })
  .transform((body, ctx) => {
    if (!body.scopes.length) return refuse(ctx, () => 'scopes must name at least one scope');
    return {
      clientId: body.client_id,
      scopes: body.scopes,
      name: body.name,
      expiresInDays: body.expires_in_days,
      rateLimit: body.rate_limit,
    };
  });
export type CreateApiKeyInput = z.output<typeof createApiKeyBody>;

/** POST /api-keys/:id/rotate */
export const rotateApiKeyBody = z
  .strictObject({
    grace_seconds: optional(integer(0, MAX_ROTATION_GRACE_SECONDS)).meta({
      description: 'how long the old key keeps working (default 0: it stops at once)',
    }),
  })
  .transform((body) => ({ graceSeconds: body.grace_seconds ?? 0 }));
export type RotateApiKeyInput = z.output<typeof rotateApiKeyBody>;
