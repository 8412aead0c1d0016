import { z } from 'zod';
import { adminRoutes, type AdminRoute } from './admin-routes.js';

type JsonObject = Record<string, unknown>;

/** A schema as it is sent (the wire JSON, before any transform), without its own `$schema`. */
function wireSchema(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  return rest;
}

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'string',
      enum: ['invalid_request', 'unauthorized', 'not_found', 'method_not_allowed', 'conflict', 'rotation_too_early'],
    },
    error_description: { type: 'string' },
  },
  required: ['error', 'error_description'],
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: AdminRoute, bodies: JsonObject): JsonObject {
  const params = wireSchema(route.params) as { properties?: Record<string, JsonObject> };
  const pathParameters = Object.entries(params.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'path', required: true, ...(description ? { description } : {}), schema: rest };
  });
  const query = route.query
    ? (wireSchema(route.query) as { properties?: Record<string, JsonObject>; required?: string[] })
    : {};
  const queryParameters = Object.entries(query.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    const required = query.required?.includes(name) ?? false;
    return { name, in: 'query', required, ...(description ? { description } : {}), schema: rest };
  });
  const parameters = [...pathParameters, ...queryParameters];
  const bodyName = `${route.operationId[0]!.toUpperCase()}${route.operationId.slice(1)}Body`;
  if (route.body) bodies[bodyName] = wireSchema(route.body);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: false,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${bodyName}` } } },
          },
        }
      : {}),
    responses: {
      [route.success.status]: {
        description: route.success.description,
        content: { [route.success.contentType ?? 'application/json']: {} },
      },
      400: errorResponse('invalid input; error_description names the field'),
      401: errorResponse('no admin token, or a wrong one'),
      ...(pathParameters.length ? { 404: errorResponse('nothing by that id') } : {}),
    },
  };
}

/** The admin API's OpenAPI 3.1 document, from the same schemas that check its input. */
export function adminOpenApiDocument(version: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const bodies: JsonObject = {};
  for (const route of Object.values(adminRoutes) as AdminRoute[]) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operation(route, bodies) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate admin API', version },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_TOKEN, or the token generated into $DATA_DIR/admin-token',
        },
      },
      schemas: { Error: errorSchema, ...bodies },
    },
  };
}

/** What the contract says about one field of a route's body: the CLI's help for the option that fills it. */
export function fieldDescription(body: z.ZodType, field: string): string | undefined {
  const properties = (wireSchema(body) as { properties?: Record<string, { description?: unknown }> }).properties;
  const description = properties?.[field]?.description;
  return typeof description === 'string' ? description : undefined;
}
