import { afterAll, beforeAll, expect } from 'vitest';
import { issueAuthorizationCode } from './authorization-code.js';
import { unique } from './database.js';
import { createApi, type ApiFixture } from './fixtures.js';
import { startServer, type StartOptions, type TestServer } from './server.js';

/**
 * What the token tests share (test/oidc/refresh-tokens.test.ts, test/oidc/revocation-introspection.test.ts):
 * one server, an API, a signed-in user, a confidential and a public client, and requests to the
 * token endpoints as those clients.
 */

const REDIRECT_URI = 'https://app.example.com/callback';

export type Body = Record<string, string | boolean | number | undefined>;
export interface ClientAuth {
  id: string;
  secret?: string;
}

/** The fixtures of one test file, set once its beforeAll has run. */
export interface TokenSuite {
  server: TestServer;
  api: ApiFixture;
  userId: string;
  /** A confidential authorization_code and refresh_token client. */
  web: { client_id: string; client_secret: string };
  /** A public client, otherwise like `web`. */
  mobile: { client_id: string };
  /** A form POST to the public app; with a secret, as client_secret_basic, else with client_id. */
  post(path: string, form: Record<string, string>, auth?: ClientAuth): Promise<{ status: number; body: Body }>;
  webAuth(): { id: string; secret: string };
  mobileAuth(): { id: string };
  /** A signed-in user's tokens for a client: code (minted as the pages do) exchanged at /token. */
  tokensFor(auth: ClientAuth): Promise<{ access_token: string; refresh_token: string; id_token: string }>;
  refresh(refreshToken: string, auth?: { id: string; secret: string }): Promise<{ status: number; body: Body }>;
}

/** Registers the hooks that start and stop the server and its fixtures. */
export function tokenSuite(options: StartOptions = {}): TokenSuite {
  const suite = {
    async post(path: string, form: Record<string, string>, auth?: ClientAuth) {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      const body = new URLSearchParams(form);
      if (auth?.secret) headers.authorization = `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`;
      else if (auth) body.set('client_id', auth.id);
      const response = await fetch(`${suite.server.issuer}${path}`, { method: 'POST', headers, body });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : {}) as Body };
    },

    webAuth: () => ({ id: suite.web.client_id, secret: suite.web.client_secret }),
    mobileAuth: () => ({ id: suite.mobile.client_id }),

    async tokensFor(auth: ClientAuth) {
      const { code, verifier } = await issueAuthorizationCode(suite.server, {
        clientId: auth.id,
        accountId: suite.userId,
        redirectUri: REDIRECT_URI,
        resource: suite.api.identifier,
        scope: `openid offline_access ${suite.api.scopes[0]}`,
      });
      const response = await suite.post(
        '/token',
        { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI },
        auth,
      );
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as { access_token: string; refresh_token: string; id_token: string };
    },

    refresh: (refreshToken: string, auth = suite.webAuth()) =>
      suite.post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, auth),
  } as TokenSuite;

  beforeAll(async () => {
    const server = await startServer(options);
    suite.server = server;
    suite.api = await createApi(server);
    const user = await server.admin('post', '/users', {
      username: unique('grace-'),
      password: 'violet-lantern-42-moss',
    });
    suite.userId = user.body.id;
    const scopes = ['openid', 'offline_access', suite.api.scopes[0]];
    suite.web = (
      await server.admin('post', '/clients', {
        name: 'Web',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI],
        scopes,
      })
    ).body;
    suite.mobile = (
      await server.admin('post', '/clients', {
        name: 'Mobile',
        public: true,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI],
        scopes,
      })
    ).body;
  });

  afterAll(() => suite.server?.close());

  return suite;
}
