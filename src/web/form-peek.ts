import type { Context } from 'koa';
import { TollgateError } from '../lib/errors.js';
import { sendErrorResponse } from './error-response.js';
import { readLimitedBody } from './read-body.js';
import {
  MAX_FORM_BYTES,
  formHandedToProvider,
  handFormToProvider,
  type FormFields,
} from '../oidc-provider/internals.js';

// The contract by which oidc-provider takes over a body read here lives in the seam.
export { MAX_FORM_BYTES, handFormToProvider, type FormFields } from '../oidc-provider/internals.js';

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
  const handed = formHandedToProvider(ctx.req);
  if (handed) return searchParamsOf(handed);
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

/** A form parameter's values, as many as were sent (none: empty). */
export type FormValues = (name: string) => string[];

/**
 * The form the input guard read, parsed and handed over, read by name as it is — without
 * building URLSearchParams of it on every request (the API-key verification path, issue 17).
 * Undefined when no form was handed over.
 */
export function handedFormValues(ctx: Context): FormValues | undefined {
  const handed = formHandedToProvider(ctx.req);
  if (!handed) return undefined;
  return (name) => {
    const value = Object.hasOwn(handed, name) ? handed[name] : undefined;
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
}

/** peekForm for a reader that asks for parameters by name. Undefined when the body was too large (answered 400). */
export async function peekFormValues(ctx: Context): Promise<FormValues | undefined> {
  const handed = handedFormValues(ctx);
  if (handed) return handed;
  const form = await peekForm(ctx);
  return form && ((name) => form.getAll(name));
}
