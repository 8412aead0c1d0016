import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAuthorizationCode } from '../helpers/authorization-code.js';
import { onPostgres, unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

const REDIRECT_URI = 'https://app.example.com/callback';

let server: TestServer;
let api: ApiFixture;
let clientId: string;
let clientSecret: string;
let userId: string;

beforeAll(async () => {
  server = await startServer();
  api = await createApi(server);
  const client = await server.admin('post', '/clients', {
    name: unique('web-'),
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    scopes: ['openid', 'offline_access', api.scopes[0]],
  });
  expect(client.status, JSON.stringify(client.body)).toBe(201);
  ({ client_id: clientId, client_secret: clientSecret } = client.body);
  const user = await server.admin('post', '/users', {
    username: unique('alice-'),
    password: 'correct horse battery staple',
  });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  userId = user.body.id;
});

afterAll(() => server?.close());

function codeFor() {
  return issueAuthorizationCode(server, {
    clientId,
    accountId: userId,
    redirectUri: REDIRECT_URI,
    resource: api.identifier,
    scope: `openid offline_access ${api.scopes[0]}`,
  });
}

function exchange(code: string, verifier: string) {
  return fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
    }),
  });
}

async function refresh(refreshToken: string) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('authorization codes are single-use', () => {
  it('exchanges once with openid-client; a replay is invalid_grant and revokes what the first exchange issued', async () => {
    const { code, verifier } = await codeFor();
    const config = await oidc.discovery(new URL(server.issuer), clientId, clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const callback = new URL(
      `${REDIRECT_URI}?code=${encodeURIComponent(code)}&iss=${encodeURIComponent(server.issuer)}`,
    );
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier },
      { resource: api.identifier },
    );
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.claims()?.sub).toBe(userId);

    const replay = await exchange(code, verifier);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');

    const afterReplay = await refresh(tokens.refresh_token!);
    expect(afterReplay.status).toBe(400);
    expect(afterReplay.body.error).toBe('invalid_grant');
  });

  it('a wrong code_verifier is invalid_grant', async () => {
    const { code } = await codeFor();
    const response = await exchange(code, 'x'.repeat(43));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
  });

  // PGlite has one connection and serialises every query, so a race there proves nothing.
  it.skipIf(!onPostgres)(
    '20 concurrent presentations of one code on PostgreSQL: exactly one wins, and the grant is revoked',
    async () => {
      const { code, verifier, grantId } = await codeFor();
      const responses = await Promise.all(Array.from({ length: 20 }, () => exchange(code, verifier)));
      const bodies = await Promise.all(responses.map((response) => response.json() as Promise<Record<string, string>>));
      const winners = bodies.filter((_, i) => responses[i]!.status === 200);
      const losers = bodies.filter((_, i) => responses[i]!.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(19);
      for (const loser of losers) expect(loser.error).toBe('invalid_grant');

      // The second presentation revoked what the first issued: the grant and its refresh token.
      const grant = await server.tollgate.database.knex('oidc_payloads').where({ kind: 'Grant', id: grantId }).first();
      expect(grant).toBeUndefined();
      const afterRace = await refresh(winners[0]!.refresh_token!);
      expect(afterRace.status).toBe(400);
      expect(afterRace.body.error).toBe('invalid_grant');
    },
  );
});
