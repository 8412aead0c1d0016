import { afterAll, beforeAll } from 'vitest';
import { unique } from './database.js';
import { createApi, createServiceClient, type ClientFixture } from './fixtures.js';
import { rawRequest, type RawRequest, type RawResponse } from './raw-http.js';
import { startServer, type TestServer } from './server.js';

/**
 * What the malformed-input tests share (test/http/malformed-input*.test.ts): one server per file,
 * the clients they aim at, the endpoints as discovery names them, and requests written byte for
 * byte.
 */

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const REDIRECT_URI = 'https://app.example.com/callback';
export const PASSWORD = 'harbor-lilac-93-fjord';

/** RFC 6749 §5.2: error_description is printable ASCII without `"` and `\`. */
export const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/** Node's HTTP parser refuses some request lines itself (raw non-ASCII, controls): a bare 400. */
export function refusedByHttpParser(response: RawResponse): boolean {
  return response.status === 400 && !response.headers['content-type'] && response.body === '';
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}

/** The fixtures of one test file, set once its beforeAll has run. */
export interface MalformedInputSuite {
  server: TestServer;
  adminPort: number;
  apiId: string;
  /** A client_credentials client allowed the API's scopes. */
  service: ClientFixture;
  /** A confidential authorization_code client. */
  webClientId: string;
  /** A public device_code client. */
  deviceClientId: string;
  /** Paths from discovery, as a client finds them. */
  endpoints: Record<string, string>;
  /** The server's log lines at level error or above. */
  errorLines(): string[];
  publicRequest(request: RawRequest): Promise<RawResponse>;
  /** A request to the admin API, with the admin token unless the request sets its own. */
  adminRequest(request: RawRequest): Promise<RawResponse>;
}

/** Registers the hooks that start and stop the server and its fixtures. */
export function malformedInputSuite(): MalformedInputSuite {
  let publicPort: number;
  const suite = {
    errorLines(): string[] {
      return suite.server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    },

    publicRequest(request: RawRequest): Promise<RawResponse> {
      return rawRequest(publicPort, request);
    },

    adminRequest(request: RawRequest): Promise<RawResponse> {
      return rawRequest(suite.adminPort, {
        ...request,
        headers: { authorization: `Bearer ${suite.server.adminToken}`, ...request.headers },
      });
    },
  } as MalformedInputSuite;

  beforeAll(async () => {
    const server = await startServer();
    suite.server = server;
    publicPort = Number(new URL(server.issuer).port);
    suite.adminPort = Number(new URL(server.adminUrl).port);
    const api = await createApi(server);
    suite.apiId = api.id;
    suite.service = await createServiceClient(server, api.scopes);
    suite.webClientId = (
      await server.admin('post', '/clients', {
        name: unique('web-'),
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI],
        scopes: ['openid', api.scopes[0]],
      })
    ).body.client_id;
    suite.deviceClientId = (
      await server.admin('post', '/clients', {
        name: unique('cli-'),
        public: true,
        grant_types: ['device_code'],
        scopes: ['openid', api.scopes[0]],
      })
    ).body.client_id;
    const discovery = await server.public().get('/.well-known/openid-configuration');
    suite.endpoints = Object.fromEntries(
      Object.entries(discovery.body as Record<string, unknown>)
        .filter((entry): entry is [string, string] => entry[0].endsWith('_endpoint') && typeof entry[1] === 'string')
        .map(([name, url]) => [name, pathOf(url)]),
    );
    suite.endpoints.jwks_uri = pathOf((discovery.body as { jwks_uri: string }).jwks_uri);
  });

  afterAll(() => suite.server?.close());

  return suite;
}
