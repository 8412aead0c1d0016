import * as oidc from 'openid-client';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import {
  PASSWORD,
  closePage,
  randomIp,
  redirectedToApp,
  signInSuite,
  submitLogin,
  tokenError,
  type User,
} from '../helpers/sign-in-suite.js';
import { APP_ORIGIN, callbackUrl, discover, signIn, startAuthorization } from '../helpers/web-app.js';

/**
 * What the login page refuses: wrong and unknown credentials, forged forms, weak passwords, and
 * sessions that outlive a password change or a deleted user; and what the page itself is (not
 * framed, no inline script, labelled inputs, HttpOnly SameSite cookies).
 * Password guessing: test/pages/interactions/throttle.test.ts.
 */

describe.skipIf(!browserAvailable)('sign-in: what the login page refuses, and what it is', () => {
  const suite = signInSuite();

  it('a wrong password and an unknown username get the same 401 page, the username kept and the password cleared', async () => {
    const user = await suite.createUser('wrongpw-');
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const page = await suite.pageFrom();
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
    expect(unknownUserPage.toLowerCase()).not.toMatch(
      /no such user|unknown user|not found|wrong password|does not exist/,
    );

    // The form still works: the right password goes on to consent.
    await signIn(page, user.username, PASSWORD);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await closePage(page);
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
      const response = await suite.server.admin('post', '/users', { username, password });
      expect(response.status, `${password}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error_description).toMatch(message);
      const lookup = await suite.server.admin('get', `/users/${username}`);
      expect(lookup.status).toBe(404);
    }
  });

  describe('changing the password or deleting the user ends sessions and refresh tokens', () => {
    async function endsSessions(change: (user: User) => Promise<void>) {
      const user = await suite.createUser('session-');
      const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
      const page = await suite.pageFrom();
      const tokens = await suite.signInWithConsent(page, config, user, 'openid offline_access');
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
        const response = await supertest(suite.server.adminUrl)
          .put(`/users/${user.id}/password`)
          .set('Authorization', `Bearer ${suite.server.adminToken}`)
          .send({ password: 'brand-new-7-otters-sing' });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      });
    });

    it('DELETE /users/:id', async () => {
      await endsSessions(async (user) => {
        const response = await suite.server.admin('delete', `/users/${user.id}`);
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      });
    });
  });

  it('the login form with a missing, wrong or foreign csrf field is refused (403, "expired")', async () => {
    const user = await suite.createUser('csrf-');
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const page = await suite.browser.newPage();
    const first = await startAuthorization(config, { scope: 'openid' });
    await page.goto(first.url.href);
    const firstCsrf = await page.locator('input[name="csrf"]').getAttribute('value');
    expect(firstCsrf).toBeTruthy();

    // A second interaction in the same browser; its form gets the first one's token.
    const second = await startAuthorization(config, { scope: 'openid' });
    await page.goto(second.url.href);
    const action = new URL((await page.locator('form').getAttribute('action'))!, suite.server.issuer).href;
    const correct = await page.locator('input[name="csrf"]').getAttribute('value');
    expect(correct).not.toBe(firstCsrf);

    // With the browser's own cookies, through the DevTools-driven request API.
    const headers = { 'X-Forwarded-For': randomIp() };
    for (const csrf of [undefined, 'forged-token', firstCsrf!]) {
      const form: Record<string, string> = {
        username: user.username,
        password: PASSWORD,
        ...(csrf === undefined ? {} : { csrf }),
      };
      const response = await page.request.post(action, { form, headers, maxRedirects: 0 });
      expect(response.status(), String(csrf)).toBe(403);
      expect(await response.text()).toContain('This form has expired');
    }

    // The real form, its hidden field edited and then removed.
    const hidden = page.locator('input[name="csrf"]');
    await hidden.evaluate((input: { value: string }) => {
      input.value = 'edited-in-the-page';
    });
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

  it('the login page cannot be framed, runs no inline script, labels every input, and sets HttpOnly SameSite cookies', async () => {
    const user = await suite.createUser('headers-');
    const config = await discover(suite.server, suite.web.client_id, suite.web.client_secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const page = await suite.browser.newPage();
    const response = await page.goto(start.url.href);
    expect(response?.status()).toBe(200);
    const cookiesBefore = (await suite.browser.cookies()).filter((cookie) => cookie.domain === '127.0.0.1');
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
    const framer = await suite.browser.newPage();
    await framer.route(`${APP_ORIGIN}/framer`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: `<!doctype html><title>framer</title><iframe src="${loginUrl}"></iframe>`,
      }),
    );
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
    const cookiesAfter = (await suite.browser.cookies()).filter((cookie) => cookie.domain === '127.0.0.1');
    expect(cookiesAfter.map((cookie) => cookie.name)).toEqual(expect.arrayContaining(['_session']));
    for (const cookie of [...cookiesBefore, ...cookiesAfter]) {
      expect(cookie.httpOnly, cookie.name).toBe(true);
      expect(['Lax', 'Strict'], cookie.name).toContain(cookie.sameSite);
    }
  });
});
