import fs from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, browserAvailable, launchBrowser } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  POST_LOGOUT_URI,
  REDIRECT_URI,
  callbackUrl,
  discover,
  gotoExpectingCallback,
  interceptApp,
  signIn,
  startAuthorization,
} from '../helpers/web-app.js';

const PASSWORD = 'plum-orchard-7-kites';

describe.skipIf(!browserAvailable)('a person signs in to a web app (browser + openid-client)', () => {
  let server: TestServer;
  let api: ApiFixture;
  let browser: BrowserContext;
  let username: string;
  let userId: string;
  let client: { client_id: string; client_secret: string; name: string };

  beforeAll(async () => {
    server = await startServer();
    api = await createApi(server, { name: 'Orders API' });
    username = unique('ada-');
    const user = await server.admin('post', '/users', {
      username,
      password: PASSWORD,
      email: `${username}@example.com`,
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    userId = user.body.id;
    const created = await server.admin('post', '/clients', {
      name: 'Acme Web',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: [POST_LOGOUT_URI],
      scopes: ['openid', 'profile', 'email', 'offline_access', ...api.scopes],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    client = created.body;
    browser = await launchBrowser();
    await interceptApp(browser);
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in, consents, and gets an ID token, a JWT for the API and a refresh token', async () => {
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, {
      scope: `openid profile email offline_access ${api.scopes[0]}`,
      resource: api.identifier,
    });
    const page = await browser.newPage();
    await page.goto(start.url.href);

    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'login-390.png'), fullPage: true });
    await signIn(page, username, PASSWORD);

    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    const consentText = await page.textContent('main');
    expect(consentText).toContain('Acme Web');
    expect(consentText).toContain('See your email address');
    expect(consentText).toContain('Orders API');
    expect(consentText).toContain(api.scopes[0]);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'consent-390.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();

    const callback = await callbackUrl(page);
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    await page.close();

    const idClaims = tokens.claims()!;
    expect(idClaims.sub).toBe(userId);
    expect(idClaims.iss).toBe(server.issuer);
    expect(idClaims.aud).toBe(client.client_id);
    expect(idClaims.nonce).toBe(start.nonce);
    expect(userId.startsWith('user_')).toBe(true);

    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: api.identifier,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ sub: userId, client_id: client.client_id, scope: api.scopes[0] });

    expect(tokens.refresh_token).toBeTruthy();
  });

  it('remembers consent: the next sign-in for the same scopes goes straight back to the app', async () => {
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, { scope: 'openid profile', prompt: 'login' });
    const page = await browser.newPage();
    await page.goto(start.url.href);
    await signIn(page, username, PASSWORD);
    const callback = await callbackUrl(page);
    await page.close();
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('a userinfo token (OpenID scopes only) reads the claims', async () => {
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, { scope: 'openid profile email' });
    const page = await browser.newPage();
    const callback = await gotoExpectingCallback(page, start.url); // still signed in, consent remembered
    await page.close();
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    expect(userinfo).toMatchObject({ sub: userId, preferred_username: username, email: `${username}@example.com` });
  });

  it('"Deny" sends the app access_denied', async () => {
    const other = await createApi(server, { name: 'Billing API' });
    await server.admin('patch', `/clients/${client.client_id}`, {
      scopes: ['openid', 'profile', 'email', 'offline_access', ...api.scopes, other.scopes[0]],
    });
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, { scope: `openid ${other.scopes[0]}` });
    const page = await browser.newPage();
    await page.goto(start.url.href);
    await page.getByRole('button', { name: 'Deny' }).click();
    const callback = await callbackUrl(page);
    await page.close();
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(start.state);
  });

  it('signs out through RP-initiated logout back to the registered URI', async () => {
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const page = await browser.newPage();
    const callback = await gotoExpectingCallback(page, start.url);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    await page.close();
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    });
    const logoutPage = await browser.newPage();
    await logoutPage.goto(logout.href);
    await logoutPage.getByRole('heading', { name: 'Sign out?' }).waitFor();
    const signedOut = logoutPage.waitForRequest((request) => request.url().startsWith(POST_LOGOUT_URI));
    await logoutPage.getByRole('button', { name: 'Sign out' }).click();
    expect(new URL((await signedOut).url()).searchParams.get('state')).toBe('bye');
    await logoutPage.close();

    // Signed out: the next authorization asks for the password again.
    const again = await startAuthorization(config, { scope: 'openid' });
    const next = await browser.newPage();
    await next.goto(again.url.href);
    await next.getByRole('heading', { name: 'Sign in' }).waitFor();
    await next.close();
  });
});
