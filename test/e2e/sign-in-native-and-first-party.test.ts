import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import { PASSWORD, closePage, signInSuite, tokenError } from '../helpers/sign-in-suite.js';
import { callbackUrl, discover, signIn, startAuthorization } from '../helpers/web-app.js';

/**
 * The native-app (RFC 8252) path — loopback redirects on any port, private-use schemes for public
 * clients only — and the first-party path, which skips the consent page.
 */

describe.skipIf(!browserAvailable)('sign-in: the native and first-party paths', () => {
  const suite = signInSuite();

  describe('a native public client (RFC 8252)', () => {
    let app: http.Server;
    let port: number;
    const received: URL[] = [];

    beforeAll(async () => {
      app = http.createServer((request, response) => {
        // Only the redirect counts: Chromium may also ask the page's origin for /favicon.ico.
        const url = new URL(request.url!, `http://127.0.0.1:${port}`);
        if (url.pathname === '/callback') received.push(url);
        response
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<!doctype html><title>native app</title><p>You can close this window.</p>');
      });
      port = await new Promise<number>((resolve) =>
        app.listen(0, '127.0.0.1', () => resolve((app.address() as AddressInfo).port)),
      );
    });

    afterAll(async () => {
      app?.closeAllConnections();
      await new Promise((resolve) => app?.close(resolve));
    });

    it('signs in through a loopback redirect on any port, exchanges the code with PKCE and no secret, and rotates refresh tokens', async () => {
      const user = await suite.createUser('native-');
      const created = await suite.server.admin('post', '/clients', {
        name: 'Negatives Desktop',
        public: true,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1/callback'],
        scopes: ['openid', 'offline_access'],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.client_secret ?? undefined).toBeUndefined();
      const config = await discover(suite.server, created.body.client_id);

      const redirectUri = `http://127.0.0.1:${port}/callback`;
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      const page = await suite.browser.newPage();
      await page.goto(url.href);
      await signIn(page, user.username, PASSWORD);
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      await page.getByRole('button', { name: 'Allow' }).click();
      // The redirect is immediate; a browser that refuses it just stays put.
      await page
        .waitForURL((current) => current.href.startsWith(redirectUri), { timeout: 5_000 })
        .catch(() => undefined);
      await closePage(page);

      expect(
        received,
        `the browser never reached ${redirectUri}; its console said: ${consoleErrors.join(' | ')}`,
      ).toHaveLength(1);
      const callback = received[0]!;
      expect(callback.searchParams.get('code')).toBeTruthy();
      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.refresh_token).toBeTruthy();
      expect(tokens.claims()?.sub).toBe(user.id);

      const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(rotated.refresh_token).toBeTruthy();
      expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
      // The used one is refused, and that revokes the family.
      await expect(tokenError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).resolves.toBe('invalid_grant');
      await expect(tokenError(oidc.refreshTokenGrant(config, rotated.refresh_token!))).resolves.toBe('invalid_grant');
    });

    it('private-use scheme redirect URIs are accepted for public clients only', async () => {
      const base = { grant_types: ['authorization_code'], redirect_uris: ['com.example.app:/cb'], scopes: ['openid'] };
      const accepted = await suite.server.admin('post', '/clients', { name: unique('mobile-'), public: true, ...base });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      expect(accepted.body.redirect_uris).toEqual(['com.example.app:/cb']);

      const confidential = await suite.server.admin('post', '/clients', { name: unique('mobile-'), ...base });
      expect(confidential.status).toBe(400);
      expect(confidential.body.error_description).toMatch(/public/);
      const noDot = await suite.server.admin('post', '/clients', {
        name: unique('mobile-'),
        public: true,
        ...base,
        redirect_uris: ['myapp:/cb'],
      });
      expect(noDot.status).toBe(400);
      expect(noDot.body.error_description).toMatch(/reverse-domain/);
    });
  });

  it('a first-party client goes from login straight back to the app with a code, no consent page', async () => {
    const user = await suite.createUser('firstparty-');
    const firstParty = await suite.createClient({ name: 'Negatives First Party', first_party: true });
    const config = await discover(suite.server, firstParty.client_id, firstParty.client_secret);
    const start = await startAuthorization(config, {
      scope: `openid profile ${suite.api.scopes[0]}`,
      resource: suite.api.identifier,
    });
    const page = await suite.browser.newPage();
    const interactionPages: string[] = [];
    page.on('response', (response) => {
      if (response.request().method() === 'GET' && /\/interaction\/[^/]+$/.test(new URL(response.url()).pathname))
        interactionPages.push(response.url());
    });
    await page.goto(start.url.href);
    await signIn(page, user.username, PASSWORD);
    const callback = await callbackUrl(page);
    await closePage(page);

    // One interaction page only: the login form. No consent page came after it.
    expect(interactionPages).toHaveLength(1);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining([suite.api.scopes[0]]));
  });
});
