import { unacceptableLine } from './acceptable-text.js';
import { ValidationError } from './errors.js';

/** Small readers for admin request bodies: each returns the typed value or throws a clear message. */
export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('the request body must be a JSON object');
  }
  return value as Body;
}

/** Admin values are single lines: no control characters, nothing that is not UTF-8 (see acceptable-text.ts). */
function refuseUnacceptable(field: string, value: string): void {
  const problem = unacceptableLine(value);
  if (problem) throw new ValidationError(`${field} ${problem}`);
}

export function rejectUnknownFields(body: Body, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length) throw new ValidationError(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
}

export function optionalString(body: Body, field: string, maxLength = 200): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ValidationError(`${field} must be a string`);
  refuseUnacceptable(field, value);
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`);
  if (trimmed.length > maxLength) throw new ValidationError(`${field} must be at most ${maxLength} characters`);
  return trimmed;
}

export function requiredString(body: Body, field: string, maxLength = 200): string {
  const value = optionalString(body, field, maxLength);
  if (value === undefined) throw new ValidationError(`${field} is required`);
  return value;
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`${field} must be true or false`);
  return value;
}

export function optionalInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValidationError(`${field} must be a whole number`);
  if (value < min || value > max) throw new ValidationError(`${field} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A list given as a JSON array or as one string separated by spaces or commas. */
export function optionalList(body: Body, field: string, maxItems = 100): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  let items: unknown[];
  if (typeof value === 'string') items = value.split(/[\s,]+/);
  else if (Array.isArray(value)) items = value;
  else throw new ValidationError(`${field} must be a list of strings`);
  const strings = items.map((item) => {
    if (typeof item !== 'string') throw new ValidationError(`${field} must be a list of strings`);
    refuseUnacceptable(field, item);
    return item.trim();
  }).filter(Boolean);
  if (strings.length > maxItems) throw new ValidationError(`${field} may hold at most ${maxItems} entries`);
  const duplicate = strings.find((item, index) => strings.indexOf(item) !== index);
  if (duplicate) throw new ValidationError(`${field} lists "${duplicate}" twice`);
  return strings;
}
