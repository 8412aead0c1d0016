import { expect } from 'vitest';
import type supertest from 'supertest';
import { unique } from '../helpers/database.js';

// What the admin API's test files share: the JSON shapes they read and the checks they repeat.

export interface ApiJson {
  id: string;
  identifier: string;
  name: string | null;
  scopes: string[];
  token_ttl: number;
  alg: string;
  created_at: string;
  updated_at: string;
}

export interface ClientJson {
  client_id: string;
  client_secret?: string;
  name: string;
  public: boolean;
  first_party: boolean;
  grant_types: string[];
  redirect_uris: string[];
  scopes: string[];
  disabled: boolean;
  token_endpoint_auth_method: string;
}

export interface KeyJson {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  [field: string]: unknown;
}

/** A fresh identifier and a pair of scope names nobody else owns. */
export function newApiNames(path = '') {
  const prefix = unique('adm');
  return { identifier: `https://${prefix}.example.com${path}`, read: `${prefix}:read`, write: `${prefix}:write` };
}

export function expectJsonError(response: supertest.Response, status: number, error?: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body.error).toEqual(error ?? expect.any(String));
  expect(response.body.error_description).toEqual(expect.any(String));
}

/** Every key of every object in a JSON document, at any depth. */
export function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, inner]) => [key, ...allKeys(inner)]);
  return [];
}
