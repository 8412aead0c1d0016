import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import { PASSWORD, closePage, redirectedToApp, signInSuite, tokenError } from '../helpers/sign-in-suite.js';
import { REDIRECT_URI, callbackUrl, discover, signIn, startAuthorization } from '../helpers/web-app.js';

/**
 * What the authorization request and its code refuse: an unregistered redirect URI, a request
 * without PKCE or with `plain`, a wrong code_verifier and a replayed code.
 */

describe.skipIf(!browserAvailable)('sign-in: what the authorization request and its code refuse', () => {
  const suite = signInSuite();

  it('an unregistered redirect_uri gets a Tollgate error page (400) and is never visited', async () => {
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const attacker = 'https://attacker.example.test';
    const start = await startAuthorization(config, { scope: 'openid', redirect_uri: `${attacker}/callback` });
    const page = await suite.browser.newPage();
    const visited: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(attacker)) visited.push(request.url());
    });
    const response = await page.goto(start.url.href);
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(new URL(suite.server.issuer).origin);
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor();
    expect(await page.textContent('main')).toContain('has not registered');
    // Give any stray redirect a moment to show itself.
    await page.waitForTimeout(200);
    expect(visited).toEqual([]);
    await closePage(page);
  });

  it('PKCE is required and must be S256: the app gets invalid_request and no code', async () => {
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const page = await suite.browser.newPage();
    const cases: Record<string, string>[] = [
      {
        response_type: 'code',
        client_id: suite.web.client_id,
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: unique('s-'),
      },
      {
        response_type: 'code',
        client_id: suite.web.client_id,
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: unique('s-'),
        code_challenge: oidc.randomPKCECodeVerifier(),
        code_challenge_method: 'plain',
      },
    ];
    for (const params of cases) {
      const url = new URL(config.serverMetadata().authorization_endpoint!);
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      const callback = await redirectedToApp(page, url);
      expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
      expect(callback.searchParams.get('error')).toBe('invalid_request');
      expect(callback.searchParams.get('state')).toBe(params.state);
      expect(callback.searchParams.has('code')).toBe(false);
    }
    expect(config.serverMetadata().code_challenge_methods_supported).toEqual(['S256']);
    await closePage(page);
  });

  it('a wrong code_verifier gets invalid_grant; the code stays usable once, and a replay is refused and revokes its tokens', async () => {
    const user = await suite.createUser('pkce-');
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid offline_access' });
    const page = await suite.browser.newPage();
    await page.goto(start.url.href);
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await callbackUrl(page);
    await closePage(page);

    const exchange = (verifier: string) =>
      oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: start.state,
        expectedNonce: start.nonce,
      });
    await expect(tokenError(exchange(oidc.randomPKCECodeVerifier()))).resolves.toBe('invalid_grant');
    // oidc-provider checks PKCE before consuming the code, so the failed attempt did not use it up.
    const tokens = await exchange(start.verifier);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();

    await expect(tokenError(exchange(start.verifier))).resolves.toBe('invalid_grant');
    // The replay revoked what the code had issued.
    await expect(tokenError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).resolves.toBe('invalid_grant');
  });
});
