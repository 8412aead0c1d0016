import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(() => server?.close());

/** Every admin route as the README and the CLI use it, written out here rather than read from the code. */
const ADMIN_ROUTES = [
  'GET /apis',
  'POST /apis',
  'GET /apis/{id}',
  'PATCH /apis/{id}',
  'DELETE /apis/{id}',
  'GET /clients',
  'POST /clients',
  'GET /clients/{id}',
  'PATCH /clients/{id}',
  'DELETE /clients/{id}',
  'POST /clients/{id}/rotate-secret',
  'GET /clients/{id}/keys',
  'POST /clients/{id}/keys',
  'DELETE /clients/{id}/keys/{keyid}',
  'GET /api-keys',
  'GET /clients/{id}/api-keys',
  'POST /api-keys',
  'GET /api-keys/{id}',
  'POST /api-keys/{id}/revoke',
  'POST /api-keys/{id}/rotate',
  'GET /users',
  'POST /users',
  'GET /users/{id}',
  'PATCH /users/{id}',
  'PUT /users/{id}/password',
  'DELETE /users/{id}',
  'GET /keys',
  'POST /keys/rotate',
  'POST /keys/{kid}/revoke',
  'GET /audit',
  'GET /metrics',
  'GET /openapi.json',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses?: Record<string, unknown>;
}
interface SchemaObject {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, SchemaObject>; securitySchemes: Record<string, unknown> };
}

async function fetchDocument(): Promise<Document> {
  const response = await server.admin('get', '/openapi.json');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(response.text) as Document;
}

/** Every `$ref` in a JSON document, at any depth. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) =>
      key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
    );
  }
  return [];
}

describe("the admin API's OpenAPI document", () => {
  it('is served behind the admin token like every admin route', async () => {
    const response = await supertest(server.adminUrl).get('/openapi.json');
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('unauthorized');
  });

  it('is OpenAPI 3.1 and names every admin route, and only those', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(document.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const documented = Object.entries(document.paths).flatMap(([path, item]) => {
      expect(
        Object.keys(item).every((method) => METHODS.includes(method)),
        path,
      ).toBe(true);
      return Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`);
    });
    expect(documented.sort()).toEqual([...ADMIN_ROUTES].sort());
  });

  it('documents what the router serves: each path answers exactly the documented methods', async () => {
    const document = await fetchDocument();
    for (const [path, item] of Object.entries(document.paths)) {
      const concrete = path.replace(/\{\w+\}/g, 'x');
      // The router answers OPTIONS with the methods it has on the path.
      const options = await supertest(server.adminUrl)
        .options(concrete)
        .set('Authorization', `Bearer ${server.adminToken}`);
      expect(options.status, `${path}: ${options.text}`).toBe(200);
      const allowed = options.headers
        .allow!.split(/,\s*/)
        .filter((method) => method !== 'HEAD' && method !== 'OPTIONS')
        .sort();
      expect(allowed, path).toEqual(
        Object.keys(item)
          .map((method) => method.toUpperCase())
          .sort(),
      );
    }
  });

  it('is well-formed: unique operation ids, path parameters declared, every $ref resolves, bodies are schemas', async () => {
    const document = await fetchDocument();
    const ids = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    );
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    for (const [path, item] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(item)) {
        expect(
          operation.parameters?.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name) ?? [],
          `${method} ${path}`,
        ).toEqual(names);
        expect(
          Object.keys(operation.responses ?? {}).some((status) => /^2\d\d$/.test(status)),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
    for (const ref of refs(document)) {
      const name = /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1];
      expect(name && document.components.schemas[name], ref).toBeTruthy();
    }
    const withBodies = [
      'POST /apis',
      'PATCH /apis/{id}',
      'POST /clients',
      'PATCH /clients/{id}',
      'POST /users',
      'PATCH /users/{id}',
      'PUT /users/{id}/password',
      'POST /keys/rotate',
    ];
    for (const route of withBodies) {
      const [method, path] = route.split(' ') as [string, string];
      const ref = document.paths[path]![method.toLowerCase()]!.requestBody?.content['application/json']?.schema.$ref;
      expect(ref, route).toMatch(/^#\/components\/schemas\//);
      const schema = document.components.schemas[ref!.split('/').pop()!]!;
      expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Object.keys(schema.properties ?? {}).length, route).toBeGreaterThan(0);
    }
  });

  it('describes the same fields the admin API accepts and requires', async () => {
    const {
      components: { schemas },
    } = await fetchDocument();
    expect(schemas.CreateApiBody!.required).toEqual(['identifier']);
    expect(schemas.CreateClientBody!.required?.sort()).toEqual(['grant_types', 'name']);
    expect(schemas.CreateUserBody!.required?.sort()).toEqual(['password', 'username']);
    for (const [route, body] of [
      ['/apis', 'CreateApiBody'],
      ['/clients', 'CreateClientBody'],
      ['/users', 'CreateUserBody'],
    ] as const) {
      const refused = await server.admin('post', route, { no_such_field: 1 });
      expect(refused.status).toBe(400);
      const allowed = /\(allowed: ([^)]*)\)/.exec(refused.body.error_description)?.[1]?.split(', ');
      expect(allowed, refused.body.error_description).toEqual(Object.keys(schemas[body]!.properties!));
    }
  });

  it('describes the query parameters of GET /audit, the same the route accepts', async () => {
    const document = await fetchDocument();
    const parameters = document.paths['/audit']!.get!.parameters ?? [];
    expect(parameters.map(({ name, in: where, required }) => ({ name, in: where, required }))).toEqual([
      { name: 'since', in: 'query', required: false },
      { name: 'type', in: 'query', required: false },
      { name: 'limit', in: 'query', required: false },
    ]);
    expect(
      parameters.every((parameter) => typeof (parameter as { description?: unknown }).description === 'string'),
    ).toBe(true);
    const refused = await server.admin('get', '/audit?no_such_parameter=1');
    expect(refused.status).toBe(400);
    const allowed = /\(allowed: ([^)]*)\)/.exec(refused.body.error_description)?.[1]?.split(', ');
    expect(allowed, refused.body.error_description).toEqual(parameters.map(({ name }) => name));
  });
});
