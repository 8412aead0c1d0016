import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { TollgateError } from '../lib/errors.js';
import { sendErrorResponse } from './error-response.js';
import { readLimitedBody } from './read-body.js';

/** A form's fields as querystring.parse gives them: a repeated name holds an array. */
export type FormFields = Record<string, string | string[]>;

/** oidc-provider's own limit for form bodies (lib/shared/selective_body.js). */
export const MAX_FORM_BYTES = 56 * 1024;

/**
 * Hands a form body read and parsed by Tollgate to oidc-provider. Once the stream is consumed,
 * oidc-provider takes req.body instead (selective_body.js, "already parsed request body"); parsed
 * as querystring.parse would, duplicated parameters stay arrays, so its duplicate check still works.
 */
export function handFormToProvider(req: IncomingMessage, fields: FormFields): void {
  (req as { body?: FormFields }).body = fields;
}

/** The fields handed over, as URLSearchParams (a repeated name once per value). */
function searchParamsOf(fields: FormFields): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  }
  return params;
}

/**
 * Reads a form body that oidc-provider will also need (already read by the input guard, so this
 * is the same bytes). When the body is over the limit it answers 400 itself and resolves undefined.
 */
export async function peekForm(ctx: Context): Promise<URLSearchParams | undefined> {
  // The input guard in front of everything has read, checked and parsed it already.
  const handed = (ctx.req as { body?: unknown }).body;
  if (handed && typeof handed === 'object') return searchParamsOf(handed as FormFields);
  const raw = await readLimitedBody(ctx.req, MAX_FORM_BYTES);
  if (!raw) {
    sendErrorResponse(ctx, new TollgateError(400, 'invalid_request', 'the request body is too large'));
    return undefined;
  }
  const params = new URLSearchParams(raw.toString('utf8'));
  const fields: FormFields = Object.create(null) as FormFields;
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    fields[name] = values.length === 1 ? values[0]! : values;
  }
  handFormToProvider(ctx.req, fields);
  return params;
}
