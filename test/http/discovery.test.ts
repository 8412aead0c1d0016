import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { createApi, createServiceClient } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Metadata = Record<string, unknown>;

const OIDC_PATH = '/.well-known/openid-configuration';
const RFC8414_PATH = '/.well-known/oauth-authorization-server';

let server: TestServer;
let tenant: TestServer;
let proxied: TestServer;

beforeAll(async () => {
  [server, tenant, proxied] = await Promise.all([
    startServer(),
    startServer({ issuerPath: '/tenant-a' }),
    startServer({ env: { TRUST_PROXY: 'true' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.close(), tenant?.close(), proxied?.close()]);
});

/** Every string value of the metadata that is a URL (the *_endpoint and *_uri members). */
function urlMembers(metadata: Metadata): [string, string][] {
  return Object.entries(metadata)
    .filter(([name, value]) => typeof value === 'string' && (name.endsWith('_endpoint') || name.endsWith('_uri')))
    .map(([name, value]) => [name, value as string]);
}

function expectEverythingUnder(metadata: Metadata, issuer: string): void {
  expect(metadata.issuer).toBe(issuer);
  const urls = urlMembers(metadata);
  // Every other endpoint the server offers (introspection, revocation, …) is checked by the loop below.
  for (const required of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    expect(
      urls.map(([name]) => name),
      `discovery lacks ${required}`,
    ).toContain(required);
  }
  for (const [name, value] of urls) {
    expect(value.startsWith(`${issuer}/`), `${name} = ${value} is not under ${issuer}`).toBe(true);
  }
}

async function getMetadata(target: TestServer, path: string, headers: Record<string, string> = {}): Promise<Metadata> {
  let request = target.public().get(path);
  for (const [name, value] of Object.entries(headers)) request = request.set(name, value);
  const response = await request;
  expect(response.status, `${path}: ${response.text}`).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return response.body as Metadata;
}

const SPOOFED = { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' };

describe('discovery documents', () => {
  for (const path of [OIDC_PATH, RFC8414_PATH]) {
    it(`${path} answers with the issuer and URLs derived from it`, async () => {
      expectEverythingUnder(await getMetadata(server, path), server.issuer);
    });

    it(`${path} ignores a spoofed Host / X-Forwarded-Host`, async () => {
      const metadata = await getMetadata(server, path, SPOOFED);
      expectEverythingUnder(metadata, server.issuer);
      expect(JSON.stringify(metadata)).not.toContain('evil.example');
    });

    it(`${path} ignores a spoofed Host even with TRUST_PROXY`, async () => {
      const metadata = await getMetadata(proxied, path, SPOOFED);
      expectEverythingUnder(metadata, proxied.issuer);
      expect(JSON.stringify(metadata)).not.toContain('evil.example');
    });
  }

  it('serves the same metadata at both places', async () => {
    expect(await getMetadata(server, RFC8414_PATH)).toEqual(await getMetadata(server, OIDC_PATH));
  });

  it('offers client_credentials and neither implicit nor password', async () => {
    const metadata = await getMetadata(server, OIDC_PATH);
    const grants = metadata.grant_types_supported as string[];
    expect(grants).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
    expect(grants).not.toContain('implicit');
    expect(grants).not.toContain('password');
    expect(metadata.response_types_supported).toEqual(['code']);
  });

  it('offers client_secret_basic, client_secret_post, private_key_jwt, the RFC 8705 methods and none, and never client_secret_jwt', async () => {
    const metadata = await getMetadata(server, OIDC_PATH);
    expect([...(metadata.token_endpoint_auth_methods_supported as string[])].sort()).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'none',
      'private_key_jwt',
      'self_signed_tls_client_auth',
      'tls_client_auth',
    ]);
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    for (const endpoint of ['introspection', 'revocation']) {
      const methods = metadata[`${endpoint}_endpoint_auth_methods_supported`] as string[] | undefined;
      if (methods) expect(methods, endpoint).not.toContain('client_secret_jwt');
    }
  });

  it('requires PKCE with S256 only', async () => {
    const metadata = await getMetadata(server, OIDC_PATH);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('advertises no symmetric (HS*) algorithm', async () => {
    const metadata = await getMetadata(server, OIDC_PATH);
    const algLists = Object.entries(metadata).filter(([name]) => name.endsWith('_alg_values_supported'));
    expect(algLists.length).toBeGreaterThan(0);
    for (const [name, values] of algLists) {
      expect(Array.isArray(values), name).toBe(true);
      for (const alg of values as string[]) expect(alg, name).not.toMatch(/^HS/);
    }
  });
});

describe('an issuer with a path', () => {
  it('has its issuer under /tenant-a', () => {
    expect(tenant.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-a$/);
  });

  it('serves OpenID discovery under the issuer path', async () => {
    expectEverythingUnder(await getMetadata(tenant, `/tenant-a${OIDC_PATH}`), tenant.issuer);
  });

  it('serves RFC 8414 metadata at /.well-known/oauth-authorization-server/tenant-a', async () => {
    const metadata = await getMetadata(tenant, `${RFC8414_PATH}/tenant-a`);
    expectEverythingUnder(metadata, tenant.issuer);
    expect(metadata).toEqual(await getMetadata(tenant, `/tenant-a${OIDC_PATH}`));
  });

  it('keeps its URLs under the issuer whatever the Host header', async () => {
    const metadata = await getMetadata(tenant, `${RFC8414_PATH}/tenant-a`, SPOOFED);
    expectEverythingUnder(metadata, tenant.issuer);
  });

  it('does not serve discovery at the root', async () => {
    const response = await tenant.public().get(OIDC_PATH);
    expect(response.status).toBe(404);
  });

  it('issues tokens at the token endpoint found through discovery (OIDC and RFC 8414)', async () => {
    const api = await createApi(tenant);
    const client = await createServiceClient(tenant, [api.scopes[0]!]);
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      const config = await oidc.discovery(
        new URL(tenant.issuer),
        client.client_id,
        undefined,
        oidc.ClientSecretBasic(client.client_secret),
        { execute: [oidc.allowInsecureRequests], algorithm },
      );
      expect(config.serverMetadata().issuer).toBe(tenant.issuer);
      expect(config.serverMetadata().token_endpoint!.startsWith(`${tenant.issuer}/`)).toBe(true);
      const tokens = await oidc.clientCredentialsGrant(config, { scope: api.scopes[0]! });
      expect(tokens.access_token).toBeTruthy();
      const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
      expect(payload).toMatchObject({ iss: tenant.issuer, aud: api.identifier, client_id: client.client_id });
    }
  });
});

describe('the authorization endpoint', () => {
  const redirectUri = 'https://app.example.com/callback';
  let clientId: string;
  let authorizationPath: string;

  beforeAll(async () => {
    const response = await server.admin('post', '/clients', {
      name: unique('web-'),
      grant_types: ['authorization_code'],
      redirect_uris: [redirectUri],
      scopes: ['openid'],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    clientId = response.body.client_id as string;
    const metadata = await getMetadata(server, OIDC_PATH);
    authorizationPath = new URL(metadata.authorization_endpoint as string).pathname;
  });

  function authorizationQuery(extra: Record<string, string | undefined>): Record<string, string> {
    const query: Record<string, string | undefined> = {
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid',
      state: crypto.randomBytes(8).toString('hex'),
      ...extra,
    };
    return Object.fromEntries(
      Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  }

  /** Refused either by redirecting back with an error or with a 400 page. */
  function expectRefused(
    response: { status: number; headers: Record<string, string> },
    error = 'invalid_request',
  ): void {
    if (response.status === 303 || response.status === 302) {
      const location = new URL(response.headers.location!);
      expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
      // The error comes back in the query (response_mode=query) or, for a token response type, the fragment.
      const params = location.searchParams.has('error')
        ? location.searchParams
        : new URLSearchParams(location.hash.slice(1));
      expect(params.get('error')).toBe(error);
      expect(params.get('code')).toBeNull();
      expect(params.get('access_token')).toBeNull();
    } else {
      expect(response.status).toBe(400);
    }
  }

  it("does not expose oidc-provider's development login form", async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const agent = server.public();
    const response = await agent
      .get(authorizationPath)
      .query(authorizationQuery({ code_challenge: challenge, code_challenge_method: 'S256' }));
    expect([302, 303]).toContain(response.status);
    const interaction = new URL(response.headers.location!, server.issuer);
    // The request was accepted: it went to an interaction, not back to the client with an error.
    expect(interaction.origin).toBe(new URL(server.issuer).origin);
    expect(interaction.searchParams.get('error')).toBeNull();

    // The agent sends back the interaction cookies the redirect set, as a browser would.
    const page = await agent.get(`${interaction.pathname}${interaction.search}`);
    expect(page.text).not.toContain('Enter any login');
    expect(page.text).not.toMatch(/name="login"/);
    // Had the request not reached an interaction page at all, the checks above would prove nothing.
    expect(page.text).not.toContain('interaction session id cookie not found');
    expect(page.status).toBeLessThan(500);
  });

  it('refuses a request without code_challenge', async () => {
    const response = await server.public().get(authorizationPath).query(authorizationQuery({}));
    expectRefused(response);
  });

  it('refuses code_challenge_method=plain', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const response = await server
      .public()
      .get(authorizationPath)
      .query(authorizationQuery({ code_challenge: verifier, code_challenge_method: 'plain' }));
    expectRefused(response);
  });

  it('refuses the implicit response type', async () => {
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    const response = await server
      .public()
      .get(authorizationPath)
      .query(authorizationQuery({ response_type: 'token', code_challenge: challenge, code_challenge_method: 'S256' }));
    expectRefused(response, 'unsupported_response_type');
  });
});
