import { z } from 'zod';
import { unacceptableLine } from '../lib/acceptable-text.js';
import { fieldWording, refuse, type FieldWording } from './wording.js';

// The building blocks of the admin API's request bodies. Each parses what JSON may hold for a
// field and yields the clean value a service takes; their wording is in one place (wording.ts).

/** A single line: no control characters, nothing that is not UTF-8, trimmed, not empty, capped in length. */
function cleanLine(maxLength: number) {
  return (value: string, ctx: z.RefinementCtx): string => {
    const problem = unacceptableLine(value);
    if (problem) return refuse(ctx, (field) => `${field} ${problem}`);
    const trimmed = value.trim();
    if (!trimmed) return refuse(ctx, (field) => `${field} must not be empty`);
    if (trimmed.length > maxLength) return refuse(ctx, (field) => `${field} must be at most ${maxLength} characters`);
    return trimmed;
  };
}

/** A required single-line text; null counts as missing. */
export function requiredText(maxLength = 200, wording: FieldWording = {}) {
  return z.string().meta({ maxLength }).register(fieldWording, wording).transform(cleanLine(maxLength));
}

/** An optional single-line text; null counts as absent. */
export function optionalText(maxLength = 200) {
  return optional(requiredText(maxLength));
}

/** JSON null means "not given" for optional admin fields (as the old readers treated it). */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

export function optionalBoolean() {
  return optional(z.boolean());
}

export interface ListOptions {
  maxItems?: number;
  wording?: FieldWording;
}

/** A list given as a JSON array or as one string separated by spaces or commas; no entry twice. */
export function list({ maxItems = 100, wording = {} }: ListOptions = {}) {
  return z
    .union([z.string(), z.array(z.string())])
    .meta({ description: 'a JSON array, or one string separated by spaces or commas' })
    .register(fieldWording, wording)
    .transform((value, ctx) => {
      const items = typeof value === 'string' ? value.split(/[\s,]+/) : value;
      for (const item of items) {
        const problem = unacceptableLine(item);
        if (problem) return refuse(ctx, (field) => `${field} ${problem}`);
      }
      const strings = items.map((item) => item.trim()).filter(Boolean);
      if (strings.length > maxItems) return refuse(ctx, (field) => `${field} may hold at most ${maxItems} entries`);
      const duplicate = strings.find((item, index) => strings.indexOf(item) !== index);
      if (duplicate) return refuse(ctx, (field) => `${field} lists "${duplicate}" twice`);
      return strings;
    });
}

/** A whole number between min and max; `tooBig` words a value above max when the limit has a reason. */
export function integer(min: number, max: number, tooBig?: (field: string, value: number) => string) {
  return z
    .number()
    .meta({ type: 'integer', minimum: min, maximum: max })
    .transform((value, ctx) => {
      if (!Number.isInteger(value)) return refuse(ctx, (field) => `${field} must be a whole number`);
      if (value > max && tooBig) return refuse(ctx, (field) => tooBig(field, value));
      if (value < min || value > max)
        return refuse(ctx, (field) => `${field} must be between ${min} and ${max}, got ${value}`);
      return value;
    });
}
