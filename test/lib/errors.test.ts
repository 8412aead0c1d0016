import Koa from 'koa';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conformDescription,
  conformErrorBody,
  sendErrorResponse,
  type ErrorResponseOptions,
} from '../../src/web/error-response.js';
import { RotationTooEarlyError } from '../../src/keys/key-ring.js';
import { ConflictError, NotFoundError, TollgateError, ValidationError, type ErrorCode } from '../../src/lib/errors.js';
import { ClientAuthenticationError } from '../../src/clients/client-authentication.js';
import { sourceFilesOfSrc } from '../helpers/source-files.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** RFC 6749 §5.2: error_description is printable ASCII without `"` and `\`. */
const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/** A Koa app whose only route answers with `error` through the helper, as middleware does. */
function answering(error: TollgateError, options?: ErrorResponseOptions): supertest.Agent {
  const app = new Koa();
  app.use((ctx) => sendErrorResponse(ctx, error, options));
  return supertest.agent(app.callback());
}

describe('the error model', () => {
  it('carries the status, a code from the closed union, the description, headers and extra body members', () => {
    const error = new TollgateError(429, 'temporarily_unavailable', 'too many requests', {
      headers: { 'Retry-After': '7' },
      extraFields: { interval: 10 },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'TollgateError',
      status: 429,
      code: 'temporarily_unavailable',
      description: 'too many requests',
      message: 'too many requests',
    });
    expect(error.headers).toEqual({ 'Retry-After': '7' });
    expect(error.extraFields).toEqual({ interval: 10 });
    expect(new TollgateError(400, 'invalid_grant', 'x')).toMatchObject({ headers: {}, extraFields: {} });
    // A code outside the union does not compile (checked by `npm run typecheck`).
    // @ts-expect-error 'invalid_token' is the resource server's code, not one Tollgate writes
    const outside: ErrorCode = 'invalid_token';
    expect(outside).toBe('invalid_token');
  });

  it("keeps the admin API's errors and the ones thrown by services in the model", () => {
    expect(new ValidationError('bad')).toMatchObject({ name: 'ValidationError', status: 400, code: 'invalid_request' });
    expect(new NotFoundError('gone')).toMatchObject({ name: 'NotFoundError', status: 404, code: 'not_found' });
    expect(new ConflictError('taken')).toMatchObject({ name: 'ConflictError', status: 409, code: 'conflict' });
    expect(new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed')).toMatchObject({
      status: 401,
      code: 'invalid_client',
    });
    const tooEarly = new RotationTooEarlyError(new Date('2030-01-02T03:04:05.000Z'));
    expect(tooEarly).toBeInstanceOf(TollgateError);
    expect(tooEarly).toMatchObject({
      status: 409,
      code: 'rotation_too_early',
      extraFields: { possible_at: '2030-01-02T03:04:05.000Z' },
    });
    for (const error of [new ValidationError('x'), new NotFoundError('x'), new ConflictError('x'), tooEarly])
      expect(error).toBeInstanceOf(TollgateError);
  });

  it('passes a cause on without showing it to the caller', async () => {
    const cause = new Error('connection refused to 10.0.0.5');
    const error = new TollgateError(503, 'temporarily_unavailable', 'try again later', { cause });
    expect(error.cause).toBe(cause);
    const response = await answering(error).get('/');
    expect(response.status).toBe(503);
    expect(response.text).toBe('{"error":"temporarily_unavailable","error_description":"try again later"}');
  });
});

describe('the one helper that writes an error response', () => {
  it("writes the status, the error's headers, Cache-Control: no-store and the RFC 6749 §5.2 body", async () => {
    const response = await answering(
      new TollgateError(400, 'slow_down', 'polling too fast', {
        headers: { 'Retry-After': '5', 'WWW-Authenticate': 'Basic realm="x"' },
        extraFields: { interval: 10 },
      }),
    ).post('/token');
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['www-authenticate']).toBe('Basic realm="x"');
    // Member order as before: error, error_description, then the extra ones.
    expect(response.text).toBe('{"error":"slow_down","error_description":"polling too fast","interval":10}');
  });

  it("keeps error_description within RFC 6749 §5.2's characters on OAuth endpoints", async () => {
    const response = await answering(new TollgateError(400, 'invalid_scope', 'scope "café\\…" is not\tallowed')).get(
      '/',
    );
    expect(response.body).toEqual({ error: 'invalid_scope', error_description: "scope 'caf??...' is not?allowed" });
    expect(response.body.error_description).toMatch(ERROR_DESCRIPTION);
  });

  it("leaves the admin API's descriptions as written", async () => {
    const response = await answering(new NotFoundError('no user with id or username "renée"'), {
      description: 'as-written',
    }).get('/users/ren%C3%A9e');
    expect(response.status).toBe(404);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({ error: 'not_found', error_description: 'no user with id or username "renée"' });
  });

  it('conforms descriptions oidc-provider wrote, leaving every other member and non-errors alone', () => {
    const ctx = {
      status: 400,
      body: { error: 'invalid_scope', error_description: 'scope "x…" is not allowed', scope: 'a "b"' },
    } as unknown as Koa.Context;
    conformErrorBody(ctx);
    expect(ctx.body).toEqual({
      error: 'invalid_scope',
      error_description: "scope 'x...' is not allowed",
      scope: 'a "b"',
    });
    const ok = { status: 200, body: { error_description: '"kept"' } } as unknown as Koa.Context;
    conformErrorBody(ok);
    expect(ok.body).toEqual({ error_description: '"kept"' });
    expect(conformDescription('plain text stays')).toBe('plain text stays');
  });
});

describe('errors written through the helper on a running server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('the device authorization endpoint refuses GET with 405, Allow: POST, no-store and JSON', async () => {
    const response = await server.public().get('/device/auth');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({
      error: 'invalid_request',
      error_description: 'the device authorization endpoint accepts POST only (RFC 8628 section 3.1)',
    });
  });

  it('the admin API answers a missing thing and an unknown route with no-store JSON, descriptions as written', async () => {
    const missing = await server.admin('get', '/users/nobody-here');
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-store');
    expect(missing.body).toEqual({
      error: 'not_found',
      error_description: 'no user with id or username "nobody-here"',
    });
    const unknown = await server.admin('get', '/no-such-route');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['cache-control']).toBe('no-store');
    expect(unknown.body).toEqual({ error: 'not_found', error_description: 'no admin route GET /no-such-route' });
  });

  it("the admin API's 401 carries its challenge from the error", async () => {
    const response = await supertest(server.adminUrl).get('/apis');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="tollgate-admin"');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.error).toBe('unauthorized');
  });
});

describe('one place writes error bodies', () => {
  it('no file in src/ but the helper builds an { error, error_description } body by hand', () => {
    // An error_description member written in an object literal, or an `error` member assigned to a body.
    const handWritten = /(?<![\w.$])['"]?error_description['"]?\s*:|\.body\s*=\s*\{\s*['"]?error['"]?\s*:/;
    const allowed = new Set([
      'web/error-response.ts',
      // Not a body: the result handed to oidc-provider's interactionFinished(), which sends the
      // error to the client's redirect URI itself (RFC 6749 §4.1.2.1).
      'pages/interactions/interaction-routes.ts',
      // Not a body: the admin API's OpenAPI document describing the error body's members.
      'contract/openapi.ts',
    ]);
    const offenders = sourceFilesOfSrc()
      .filter(({ file, text }) => !allowed.has(file.split('\\').join('/')) && handWritten.test(text))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });
});
