import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import supertest from 'supertest';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { APP_ORIGIN, REDIRECT_URI, callbackUrl, discover, gotoExpectingCallback, interceptApp, signIn, startAuthorization } from '../helpers/web-app.js';

/**
 * What the sign-in pages refuse: wrong and unknown credentials, forged forms,
 * unregistered redirect URIs, requests without PKCE, weak passwords, and sessions that outlive a
 * password change or a deleted user; plus the native-app (RFC 8252) and first-party paths.
 * Password guessing: test/interactions/throttle.test.ts.
 *
 * The server trusts X-Forwarded-For here so each test signs in from its own made-up address: the
 * per-IP failure count lives in the database, which test files (and reruns) may share.
 */

const PASSWORD = 'quiet-lantern-9-harbour';

interface WebClient { client_id: string; client_secret: string; name: string }
interface User { id: string; username: string }
type Agent = ReturnType<TestServer['public']>;

function randomIp(): string {
  const octet = () => crypto.randomInt(1, 255);
  return `10.${octet()}.${octet()}.${octet()}`;
}

/** The error the token endpoint answered, from openid-client's rejection. */
async function tokenError(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { error?: string }).error;
  }
  throw new Error('expected the token endpoint to refuse');
}

function isLoginPost(response: Response): boolean {
  return response.request().method() === 'POST' && /\/interaction\/[^/]+\/login$/.test(new URL(response.url()).pathname);
}

/**
 * gotoExpectingCallback, then off Chromium's error page for the app's unresolvable host: left
 * there, Chromium reloads it a second later, and that reload can hold up page.close(). Starting
 * from about:blank, so that waiting for the page to settle cannot match an earlier URL.
 */
async function redirectedToApp(page: Page, url: URL): Promise<URL> {
  await page.goto('about:blank');
  const callback = await gotoExpectingCallback(page, url);
  await page.waitForURL((current) => current.protocol === 'chrome-error:' || current.href.startsWith(APP_ORIGIN));
  await page.goto('about:blank');
  return callback;
}

/**
 * Closes a page once it has loaded: closing one while a request of it is held by the context's
 * route (every request is, while any route is set) can stall page.close().
 */
async function closePage(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.close();
}

/** Submits the login form in the browser and returns the response to that POST. */
async function submitLogin(page: Page, username: string, password: string): Promise<Response> {
  const response = page.waitForResponse(isLoginPost);
  await signIn(page, username, password);
  return response;
}

describe.skipIf(!browserAvailable)('sign-in: what is refused, and the native and first-party paths', () => {
  let server: TestServer;
  let api: ApiFixture;
  let browser: BrowserContext;
  let web: WebClient;

  async function createUser(prefix: string): Promise<User> {
    const username = unique(prefix);
    const response = await server.admin('post', '/users', { username, password: PASSWORD });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return { id: response.body.id, username };
  }

  async function createClient(fields: Record<string, unknown>): Promise<WebClient> {
    const response = await server.admin('post', '/clients', {
      name: unique('client-'),
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      scopes: ['openid', 'profile', 'offline_access', ...api.scopes],
      ...fields,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as WebClient;
  }

  /** A page whose requests all claim to come from one (made-up) address, for pages where sign-ins fail. */
  async function pageFrom(ip = randomIp()): Promise<Page> {
    const page = await browser.newPage();
    await page.setExtraHTTPHeaders({ 'X-Forwarded-For': ip });
    return page;
  }

  /** Signs in and allows consent in the browser; returns the tokens the app gets. */
  async function signInWithConsent(page: Page, config: oidc.Configuration, user: User, scope: string) {
    const start = await startAuthorization(config, { scope });
    await page.goto(start.url.href);
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await callbackUrl(page);
    return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce });
  }

  /** Starts an authorization over plain HTTP and opens its login form: the form's action and CSRF token. */
  async function openLoginForm(agent: Agent, config: oidc.Configuration): Promise<{ action: string; csrf: string }> {
    const start = await startAuthorization(config, { scope: 'openid' });
    const authorization = await agent.get(`${start.url.pathname}${start.url.search}`);
    expect(authorization.status).toBeGreaterThanOrEqual(300);
    expect(authorization.status).toBeLessThan(400);
    const login = await agent.get(new URL(authorization.headers.location!, server.issuer).pathname);
    expect(login.status).toBe(200);
    const action = /<form method="post" action="([^"]+)"/.exec(login.text)?.[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)?.[1];
    expect(action, login.text).toBeTruthy();
    expect(csrf, login.text).toBeTruthy();
    return { action: action!, csrf: csrf! };
  }

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: 'true' } });
    api = await createApi(server, { name: 'Ledger API' });
    web = await createClient({ name: 'Negatives Web' });
    browser = await launchBrowser();
    await interceptApp(browser);
  });

  beforeEach(async () => {
    // Every test starts signed out.
    await browser?.clearCookies();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('a wrong password and an unknown username get the same 401 page, the username kept and the password cleared', async () => {
    const user = await createUser('wrongpw-');
    const config = await discover(server, web.client_id, web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const page = await pageFrom();
    await page.goto(start.url.href);

    const wrongPassword = await submitLogin(page, user.username, 'not-the-password-at-all');
    expect(wrongPassword.status()).toBe(401);
    const alert = page.getByRole('alert');
    expect((await alert.textContent())?.trim()).toBe('Incorrect username or password.');
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe(user.username);
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    const wrongPasswordPage = (await page.locator('main').innerHTML()).replaceAll(user.username, 'USERNAME');

    const stranger = unique('nobody-');
    const unknownUser = await submitLogin(page, stranger, 'not-the-password-at-all');
    expect(unknownUser.status()).toBe(401);
    expect((await alert.textContent())?.trim()).toBe('Incorrect username or password.');
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe(stranger);
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    const unknownUserPage = (await page.locator('main').innerHTML()).replaceAll(stranger, 'USERNAME');
    // Byte for byte the same page, apart from the username typed.
    expect(unknownUserPage).toBe(wrongPasswordPage);
    expect(unknownUserPage.toLowerCase()).not.toMatch(/no such user|unknown user|not found|wrong password|does not exist/);

    // The form still works: the right password goes on to consent.
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await closePage(page);
  });

  it('an unregistered redirect_uri gets a Tollgate error page (400) and is never visited', async () => {
    const config = await discover(server, web.client_id, web.client_secret);
    const attacker = 'https://attacker.example.test';
    const start = await startAuthorization(config, { scope: 'openid', redirect_uri: `${attacker}/callback` });
    const page = await browser.newPage();
    const visited: string[] = [];
    page.on('request', (request) => { if (request.url().startsWith(attacker)) visited.push(request.url()); });
    const response = await page.goto(start.url.href);
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(new URL(server.issuer).origin);
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor();
    expect(await page.textContent('main')).toContain('has not registered');
    // Give any stray redirect a moment to show itself.
    await page.waitForTimeout(200);
    expect(visited).toEqual([]);
    await closePage(page);
  });

  it('PKCE is required and must be S256: the app gets invalid_request and no code', async () => {
    const config = await discover(server, web.client_id, web.client_secret);
    const page = await browser.newPage();
    const cases: Record<string, string>[] = [
      { response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT_URI, scope: 'openid', state: unique('s-') },
      { response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT_URI, scope: 'openid', state: unique('s-'),
        code_challenge: oidc.randomPKCECodeVerifier(), code_challenge_method: 'plain' },
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
    const user = await createUser('pkce-');
    const config = await discover(server, web.client_id, web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid offline_access' });
    const page = await browser.newPage();
    await page.goto(start.url.href);
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await callbackUrl(page);
    await closePage(page);

    const exchange = (verifier: string) => oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: start.state, expectedNonce: start.nonce });
    await expect(tokenError(exchange(oidc.randomPKCECodeVerifier()))).resolves.toBe('invalid_grant');
    // oidc-provider checks PKCE before consuming the code, so the failed attempt did not use it up.
    const tokens = await exchange(start.verifier);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();

    await expect(tokenError(exchange(start.verifier))).resolves.toBe('invalid_grant');
    // The replay revoked what the code had issued.
    await expect(tokenError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).resolves.toBe('invalid_grant');
  });

  it('the admin API refuses weak passwords with a clear message', async () => {
    const cases: [string, string, RegExp][] = [
      [unique('weak-'), 'Zq7#kLp', /at least 8 characters/],
      [unique('weak-'), 'password', /commonly used/],
      [unique('weak-'), '12345678', /commonly used/],
      [unique('weak-'), 'qwertyuiop', /commonly used/],
    ];
    const sameAsName = unique('selfish-');
    cases.push([sameAsName, sameAsName.toUpperCase(), /must not be the username/]);
    for (const [username, password, message] of cases) {
      const response = await server.admin('post', '/users', { username, password });
      expect(response.status, `${password}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error_description).toMatch(message);
      const lookup = await server.admin('get', `/users/${username}`);
      expect(lookup.status).toBe(404);
    }
  });

  describe('changing the password or deleting the user ends sessions and refresh tokens', () => {
    async function endsSessions(change: (user: User) => Promise<void>) {
      const user = await createUser('session-');
      const config = await discover(server, web.client_id, web.client_secret);
      const page = await pageFrom();
      const tokens = await signInWithConsent(page, config, user, 'openid offline_access');
      expect(tokens.refresh_token).toBeTruthy();

      // Signed in: the next request goes straight back to the app.
      const again = await startAuthorization(config, { scope: 'openid' });
      expect((await redirectedToApp(page, again.url)).searchParams.get('code')).toBeTruthy();
      await change(user);

      await expect(tokenError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).resolves.toBe('invalid_grant');
      // The same browser is asked to sign in again.
      const after = await startAuthorization(config, { scope: 'openid' });
      await page.goto(after.url.href);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // The old password no longer signs in (changed, or no such user any more).
      const refused = await submitLogin(page, user.username, PASSWORD);
      expect(refused.status()).toBe(401);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Incorrect username or password.');
      await closePage(page);
    }

    it('PUT /users/:id/password', async () => {
      await endsSessions(async (user) => {
        const response = await supertest(server.adminUrl).put(`/users/${user.id}/password`)
          .set('Authorization', `Bearer ${server.adminToken}`).send({ password: 'brand-new-7-otters-sing' });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      });
    });

    it('DELETE /users/:id', async () => {
      await endsSessions(async (user) => {
        const response = await server.admin('delete', `/users/${user.id}`);
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      });
    });
  });

  it('the login form with a missing, wrong or foreign csrf field is refused (403, "expired")', async () => {
    const user = await createUser('csrf-');
    const config = await discover(server, web.client_id, web.client_secret);
    const page = await browser.newPage();
    const first = await startAuthorization(config, { scope: 'openid' });
    await page.goto(first.url.href);
    const firstCsrf = await page.locator('input[name="csrf"]').getAttribute('value');
    expect(firstCsrf).toBeTruthy();

    // A second interaction in the same browser; its form gets the first one's token.
    const second = await startAuthorization(config, { scope: 'openid' });
    await page.goto(second.url.href);
    const action = new URL((await page.locator('form').getAttribute('action'))!, server.issuer).href;
    const correct = await page.locator('input[name="csrf"]').getAttribute('value');
    expect(correct).not.toBe(firstCsrf);

    // With the browser's own cookies, through the DevTools-driven request API.
    const headers = { 'X-Forwarded-For': randomIp() };
    for (const csrf of [undefined, 'forged-token', firstCsrf!]) {
      const form: Record<string, string> = { username: user.username, password: PASSWORD, ...(csrf === undefined ? {} : { csrf }) };
      const response = await page.request.post(action, { form, headers, maxRedirects: 0 });
      expect(response.status(), String(csrf)).toBe(403);
      expect(await response.text()).toContain('This form has expired');
    }

    // The real form, its hidden field edited and then removed.
    const hidden = page.locator('input[name="csrf"]');
    await hidden.evaluate((input: { value: string }) => { input.value = 'edited-in-the-page'; });
    const edited = await submitLogin(page, user.username, PASSWORD);
    expect(edited.status()).toBe(403);
    expect(await page.getByRole('alert').textContent()).toContain('This form has expired');
    await page.locator('input[name="csrf"]').evaluate((input: { remove(): void }) => input.remove());
    const missing = await submitLogin(page, user.username, PASSWORD);
    expect(missing.status()).toBe(403);

    // The re-rendered form carries a good token again, and signs in.
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await closePage(page);
  });

  describe('a native public client (RFC 8252)', () => {
    let app: http.Server;
    let port: number;
    const received: URL[] = [];

    beforeAll(async () => {
      app = http.createServer((request, response) => {
        received.push(new URL(request.url!, `http://127.0.0.1:${port}`));
        response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>native app</title><p>You can close this window.</p>');
      });
      port = await new Promise<number>((resolve) => app.listen(0, '127.0.0.1', () => resolve((app.address() as AddressInfo).port)));
    });

    afterAll(async () => {
      app?.closeAllConnections();
      await new Promise((resolve) => app?.close(resolve));
    });

    it('signs in through a loopback redirect on any port, exchanges the code with PKCE and no secret, and rotates refresh tokens', async () => {
      const user = await createUser('native-');
      const created = await server.admin('post', '/clients', {
        name: 'Negatives Desktop',
        public: true,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1/callback'],
        scopes: ['openid', 'offline_access'],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.client_secret ?? undefined).toBeUndefined();
      const config = await discover(server, created.body.client_id);

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
      const page = await browser.newPage();
      await page.goto(url.href);
      await signIn(page, user.username, PASSWORD);
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      const consoleErrors: string[] = [];
      page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
      await page.getByRole('button', { name: 'Allow' }).click();
      // The redirect is immediate; a browser that refuses it just stays put.
      await page.waitForURL((current) => current.href.startsWith(redirectUri), { timeout: 5_000 }).catch(() => undefined);
      await closePage(page);

      expect(received, `the browser never reached ${redirectUri}; its console said: ${consoleErrors.join(' | ')}`).toHaveLength(1);
      const callback = received[0]!;
      expect(callback.searchParams.get('code')).toBeTruthy();
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
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
      const accepted = await server.admin('post', '/clients', { name: unique('mobile-'), public: true, ...base });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      expect(accepted.body.redirect_uris).toEqual(['com.example.app:/cb']);

      const confidential = await server.admin('post', '/clients', { name: unique('mobile-'), ...base });
      expect(confidential.status).toBe(400);
      expect(confidential.body.error_description).toMatch(/public/);
      const noDot = await server.admin('post', '/clients', { name: unique('mobile-'), public: true, ...base, redirect_uris: ['myapp:/cb'] });
      expect(noDot.status).toBe(400);
      expect(noDot.body.error_description).toMatch(/reverse-domain/);
    });
  });

  it('the login page cannot be framed, runs no inline script, labels every input, and sets HttpOnly SameSite cookies', async () => {
    const user = await createUser('headers-');
    const config = await discover(server, web.client_id, web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const page = await browser.newPage();
    const response = await page.goto(start.url.href);
    expect(response?.status()).toBe(200);
    const cookiesBefore = (await browser.cookies()).filter((cookie) => cookie.domain === '127.0.0.1');
    expect(cookiesBefore.map((cookie) => cookie.name)).toEqual(expect.arrayContaining(['_interaction']));
    const headers = response!.headers();
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(headers['x-frame-options']).toBe('DENY');

    // Every visible input has a visible label.
    await expect(page.getByLabel('Username').isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true);
    const inputs = page.locator('input:not([type="hidden"])');
    expect(await inputs.count()).toBe(2);
    for (const input of await inputs.all()) {
      const id = await input.getAttribute('id');
      expect(id).toBeTruthy();
      await expect(page.locator(`label[for="${id}"]`).isVisible()).resolves.toBe(true);
    }

    // Another site framing the page gets nothing: the browser shows its own error in the frame.
    const loginUrl = page.url();
    const framer = await browser.newPage();
    await framer.route(`${APP_ORIGIN}/framer`, (route) => route.fulfill({
      status: 200, contentType: 'text/html', body: `<!doctype html><title>framer</title><iframe src="${loginUrl}"></iframe>`,
    }));
    await framer.goto(`${APP_ORIGIN}/framer`);
    const child = framer.frames().find((frame) => frame !== framer.mainFrame());
    expect(child).toBeDefined();
    await expect.poll(() => child!.url()).toMatch(/^chrome-error:/);
    await closePage(framer);

    // Cookies Tollgate sets, before and after signing in.
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await callbackUrl(page);
    await closePage(page);
    const cookiesAfter = (await browser.cookies()).filter((cookie) => cookie.domain === '127.0.0.1');
    expect(cookiesAfter.map((cookie) => cookie.name)).toEqual(expect.arrayContaining(['_session']));
    for (const cookie of [...cookiesBefore, ...cookiesAfter]) {
      expect(cookie.httpOnly, cookie.name).toBe(true);
      expect(['Lax', 'Strict'], cookie.name).toContain(cookie.sameSite);
    }
  });

  it('a first-party client goes from login straight back to the app with a code, no consent page', async () => {
    const user = await createUser('firstparty-');
    const firstParty = await createClient({ name: 'Negatives First Party', first_party: true });
    const config = await discover(server, firstParty.client_id, firstParty.client_secret);
    const start = await startAuthorization(config, { scope: `openid profile ${api.scopes[0]}`, resource: api.identifier });
    const page = await browser.newPage();
    const interactionPages: string[] = [];
    page.on('response', (response) => {
      if (response.request().method() === 'GET' && /\/interaction\/[^/]+$/.test(new URL(response.url()).pathname)) interactionPages.push(response.url());
    });
    await page.goto(start.url.href);
    await signIn(page, user.username, PASSWORD);
    const callback = await callbackUrl(page);
    await closePage(page);

    // One interaction page only: the login form. No consent page came after it.
    expect(interactionPages).toHaveLength(1);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce });
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining([api.scopes[0]]));
  });
});
