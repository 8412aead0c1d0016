import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Tollgate's middleware in front of oidc-provider gates on exact paths: the device-code throttle,
 * the anonymous-request limit, the refresh-rotation commit, device polling's slow_down, JWT
 * introspection. oidc-provider's router used to match case-insensitively and with a trailing
 * slash, so "/TOKEN" or "/device/" reached an endpoint past every such gate (a wrong-code sweep
 * through "POST /DEVICE" was never throttled; a refresh through "/TOKEN" was never rotated).
 * Routes now match exactly as spelled (patches/): any other spelling is not found.
 */
describe('an endpoint answers only at its own spelling', () => {
  let server: TestServer;
  let endpoints: string[];

  beforeAll(async () => {
    server = await startServer();
    const metadata = (await server.public().get('/.well-known/openid-configuration').expect(200)).body as Record<
      string,
      unknown
    >;
    endpoints = Object.entries(metadata)
      .filter(([name, value]) => name.endsWith('_endpoint') && typeof value === 'string')
      .map(([, value]) => new URL(value as string).pathname);
    endpoints.push(new URL(metadata.jwks_uri as string).pathname, '/device', '/.well-known/openid-configuration');
    expect(endpoints).toEqual(expect.arrayContaining(['/token', '/auth', '/device/auth', '/token/introspection']));
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The path with the letters at the chosen positions in the other case, and a trailing slash or not. */
  function respelled(path: string, flips: boolean[], slash: boolean): string {
    const letters = [...path]
      .map((char, i) =>
        flips[i % flips.length] && /[a-z]/i.test(char)
          ? char === char.toLowerCase()
            ? char.toUpperCase()
            : char.toLowerCase()
          : char,
      )
      .join('');
    return slash ? `${letters}/` : letters;
  }

  it('any other spelling — other letter case, a trailing slash — is 404 for every method', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom('get', 'post'),
        async (which, flips, slash, method) => {
          const path = endpoints[which % endpoints.length]!;
          const spelling = respelled(path, flips, slash);
          fc.pre(spelling !== path);
          const response = await server
            .public()
            [method as 'get' | 'post'](spelling)
            .type('form')
            .send({ client_id: 'x' });
          // "/device/Auth" is another route: the device page's /device/:uid, whose resumption without
          // its session is a 400 page. Every other respelling routes nowhere.
          const resumePage = method === 'get' && /^\/device\/[^/]+$/.test(spelling);
          expect(resumePage ? [400, 404] : [404], `${method.toUpperCase()} ${spelling}: ${response.status}`).toContain(
            response.status,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the device code form past its throttle: POST /DEVICE and /device/ are not found', async () => {
    for (const spelling of ['/DEVICE', '/Device', '/device/']) {
      const response = await server.public().post(spelling).type('form').send({ user_code: 'BCDF-GHJK' });
      expect(response.status, spelling).toBe(404);
    }
  });
});
