import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { launchBrowser } from './browser.js';
import { unique } from './database.js';
import { createApi, type ApiFixture } from './fixtures.js';
import { startServer, type TestServer } from './server.js';
import {
  APP_ORIGIN,
  REDIRECT_URI,
  callbackUrl,
  gotoExpectingCallback,
  interceptApp,
  signIn,
  startAuthorization,
} from './web-app.js';

/**
 * What the browser sign-in tests share (test/e2e/sign-in-*.test.ts): one server, an API, a web
 * client and a browser per file, and the moves those tests make in the browser.
 *
 * The server trusts X-Forwarded-For so each test can sign in from its own made-up address: the
 * per-IP failure count lives in the database, which test files (and reruns) may share.
 */

export const PASSWORD = 'quiet-lantern-9-harbour';

export interface WebClient {
  client_id: string;
  client_secret: string;
  name: string;
}
export interface User {
  id: string;
  username: string;
}

export function randomIp(): string {
  const octet = () => crypto.randomInt(1, 255);
  return `10.${octet()}.${octet()}.${octet()}`;
}

/** The error the token endpoint answered, from openid-client's rejection. */
export async function tokenError(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { error?: string }).error;
  }
  throw new Error('expected the token endpoint to refuse');
}

function isLoginPost(response: Response): boolean {
  return (
    response.request().method() === 'POST' && /\/interaction\/[^/]+\/login$/.test(new URL(response.url()).pathname)
  );
}

/**
 * gotoExpectingCallback, then off Chromium's error page for the app's unresolvable host: left
 * there, Chromium reloads it a second later, and that reload can hold up page.close(). Starting
 * from about:blank, so that waiting for the page to settle cannot match an earlier URL.
 */
export async function redirectedToApp(page: Page, url: URL): Promise<URL> {
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
export async function closePage(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.close();
}

/** Submits the login form in the browser and returns the response to that POST. */
export async function submitLogin(page: Page, username: string, password: string): Promise<Response> {
  const response = page.waitForResponse(isLoginPost);
  await signIn(page, username, password);
  return response;
}

/** The fixtures of one describe block, set once its beforeAll has run. */
export interface SignInSuite {
  server: TestServer;
  api: ApiFixture;
  browser: BrowserContext;
  /** A confidential authorization_code client allowed openid, profile, offline_access and the API's scopes. */
  web: WebClient;
  createUser(prefix: string): Promise<User>;
  /** A client like `web`, with `fields` over its registration. */
  createClient(fields: Record<string, unknown>): Promise<WebClient>;
  /** A page whose requests all claim to come from one (made-up) address, for pages where sign-ins fail. */
  pageFrom(ip?: string): Promise<Page>;
  /** Signs in and allows consent in the browser; returns the tokens the app gets. */
  signInWithConsent(
    page: Page,
    config: oidc.Configuration,
    user: User,
    scope: string,
  ): ReturnType<typeof oidc.authorizationCodeGrant>;
}

/** Registers the hooks that start and stop a suite's fixtures; every test starts signed out. */
export function signInSuite(): SignInSuite {
  const suite = {
    async createUser(prefix: string): Promise<User> {
      const username = unique(prefix);
      const response = await suite.server.admin('post', '/users', { username, password: PASSWORD });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return { id: response.body.id, username };
    },

    async createClient(fields: Record<string, unknown>): Promise<WebClient> {
      const response = await suite.server.admin('post', '/clients', {
        name: unique('client-'),
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI],
        scopes: ['openid', 'profile', 'offline_access', ...suite.api.scopes],
        ...fields,
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body as WebClient;
    },

    async pageFrom(ip = randomIp()): Promise<Page> {
      const page = await suite.browser.newPage();
      await page.setExtraHTTPHeaders({ 'X-Forwarded-For': ip });
      return page;
    },

    async signInWithConsent(page: Page, config: oidc.Configuration, user: User, scope: string) {
      const start = await startAuthorization(config, { scope });
      await page.goto(start.url.href);
      await signIn(page, user.username, PASSWORD);
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await callbackUrl(page);
      return oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: start.verifier,
        expectedState: start.state,
        expectedNonce: start.nonce,
      });
    },
  } as SignInSuite;

  beforeAll(async () => {
    suite.server = await startServer({ env: { TRUST_PROXY: 'true' } });
    suite.api = await createApi(suite.server, { name: 'Ledger API' });
    suite.web = await suite.createClient({ name: 'Negatives Web' });
    suite.browser = await launchBrowser();
    await interceptApp(suite.browser);
  });

  beforeEach(async () => {
    await suite.browser?.clearCookies();
  });

  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });

  return suite;
}
