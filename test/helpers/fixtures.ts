import { expect } from 'vitest';
import type { TestServer } from './server.js';
import { unique } from './database.js';

export interface ApiFixture {
  id: string;
  identifier: string;
  scopes: string[];
}

export interface ClientFixture {
  client_id: string;
  client_secret: string;
}

/** Registers an API with unique scope names `<prefix>:read` and `<prefix>:write`. */
export async function createApi(server: TestServer, fields: Record<string, unknown> = {}): Promise<ApiFixture> {
  const prefix = unique('api');
  const response = await server.admin('post', '/apis', {
    identifier: `https://${prefix}.example.com`,
    scopes: [`${prefix}:read`, `${prefix}:write`],
    ...fields,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as ApiFixture;
}

export async function createServiceClient(
  server: TestServer,
  scopes: string[],
  fields: Record<string, unknown> = {},
): Promise<ClientFixture> {
  const response = await server.admin('post', '/clients', {
    name: unique('service-'),
    grant_types: ['client_credentials'],
    scopes,
    ...fields,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as ClientFixture;
}
