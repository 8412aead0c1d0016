import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createServiceClient } from '../helpers/fixtures.js';
import { tokenSuite } from '../helpers/token-suite.js';

// Rotation, reuse and lifetimes of refresh tokens: test/oidc/refresh-tokens.test.ts.

const suite = tokenSuite();
const { post, refresh, tokensFor, webAuth, mobileAuth } = suite;

describe('revocation (RFC 7009)', () => {
  it('a confidential client revokes its refresh token, which ends the grant', async () => {
    const tokens = await tokensFor(webAuth());
    const config = await oidc.discovery(
      new URL(suite.server.issuer),
      suite.web.client_id,
      suite.web.client_secret,
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    await oidc.tokenRevocation(config, tokens.refresh_token);
    expect((await refresh(tokens.refresh_token)).body.error).toBe('invalid_grant');
    const introspected = await post('/token/introspection', { token: tokens.access_token }, webAuth());
    expect(introspected.body.active).toBe(false);
  });

  it('a public client revokes its own refresh token', async () => {
    const tokens = await tokensFor(mobileAuth());
    const revoked = await post(
      '/token/revocation',
      { token: tokens.refresh_token, token_type_hint: 'refresh_token' },
      mobileAuth(),
    );
    expect(revoked.status).toBe(200);
    expect((await refresh(tokens.refresh_token, mobileAuth() as never)).body.error).toBe('invalid_grant');
  });

  it("another client cannot revoke someone else's token", async () => {
    const tokens = await tokensFor(webAuth());
    await post('/token/revocation', { token: tokens.refresh_token }, mobileAuth());
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });

  it('needs client authentication', async () => {
    const tokens = await tokensFor(webAuth());
    const anonymous = await post('/token/revocation', { token: tokens.refresh_token });
    expect(anonymous.status).toBe(400);
    expect(anonymous.body.error).toBe('invalid_request');
    const wrong = await post(
      '/token/revocation',
      { token: tokens.refresh_token },
      { id: suite.web.client_id, secret: 'tgs_wrong' },
    );
    expect(wrong.status).toBe(401);
  });
});

describe('introspection (RFC 7662)', () => {
  it('answers for JWT access tokens: active with their claims, to their own client only', async () => {
    const tokens = await tokensFor(webAuth());
    const own = await post('/token/introspection', { token: tokens.access_token }, webAuth());
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      active: true,
      sub: suite.userId,
      client_id: suite.web.client_id,
      aud: suite.api.identifier,
      scope: suite.api.scopes[0],
      iss: suite.server.issuer,
      token_type: 'Bearer',
    });
    expect(own.body.gid).toBeUndefined();
    const other = await post('/token/introspection', { token: tokens.access_token }, mobileAuth());
    expect(other.body).toEqual({ active: false });
  });

  it('answers for refresh tokens, to their own client only', async () => {
    const tokens = await tokensFor(webAuth());
    const own = await post('/token/introspection', { token: tokens.refresh_token }, webAuth());
    expect(own.body).toMatchObject({ active: true, sub: suite.userId, client_id: suite.web.client_id });
    const other = await post('/token/introspection', { token: tokens.refresh_token }, mobileAuth());
    expect(other.body.active).toBe(false);
  });

  it('answers for client credentials tokens', async () => {
    const service = await createServiceClient(suite.server, [suite.api.scopes[0]!]);
    const issued = await post(
      '/token',
      { grant_type: 'client_credentials' },
      { id: service.client_id, secret: service.client_secret },
    );
    const introspected = await post(
      '/token/introspection',
      { token: String(issued.body.access_token) },
      { id: service.client_id, secret: service.client_secret },
    );
    expect(introspected.body).toMatchObject({ active: true, sub: service.client_id, client_id: service.client_id });
  });

  it('tampered, foreign-signed or garbage tokens are inactive; bad client credentials are 401', async () => {
    const tokens = await tokensFor(webAuth());
    const [header, payload, signature] = tokens.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: `${claims.scope} admin` })).toString('base64url')}.${signature}`;
    for (const token of [tampered, 'not-a-token', `${header}.${payload}.`]) {
      const result = await post('/token/introspection', { token }, webAuth());
      expect(result.status).toBe(200);
      expect(result.body.active).toBe(false);
    }
    const unauthenticated = await post(
      '/token/introspection',
      { token: tokens.access_token },
      { id: suite.web.client_id, secret: 'tgs_wrong' },
    );
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.error).toBe('invalid_client');
  });

  it("a password change deactivates the user's access tokens", async () => {
    const tokens = await tokensFor(webAuth());
    expect((await post('/token/introspection', { token: tokens.access_token }, webAuth())).body.active).toBe(true);
    expect(
      await suite.server
        .admin('put', `/users/${suite.userId}/password`, { password: 'amber-canyon-58-rooks' })
        .then((r) => r.status),
    ).toBe(200);
    expect((await post('/token/introspection', { token: tokens.access_token }, webAuth())).body.active).toBe(false);
    expect((await refresh(tokens.refresh_token)).body.error).toBe('invalid_grant');
  });
});
