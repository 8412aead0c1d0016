import type { BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import type { TestServer } from './server.js';

/** The app's redirect URI: the browser's requests there are answered by the test, never sent. */
export const APP_ORIGIN = 'https://app.example.test';
export const REDIRECT_URI = `${APP_ORIGIN}/callback`;
export const POST_LOGOUT_URI = `${APP_ORIGIN}/signed-out`;

/** Answers every request to the app's origin with a blank page, so redirects there can be read. */
export async function interceptApp(context: BrowserContext): Promise<void> {
  await context.route(`${APP_ORIGIN}/**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>app</title>' }),
  );
}

export interface AuthorizationStart {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function startAuthorization(
  config: oidc.Configuration,
  params: Record<string, string>,
): Promise<AuthorizationStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Waits until the browser lands on the app's redirect URI and returns that URL. */
export async function callbackUrl(page: Page): Promise<URL> {
  await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI), { timeout: 15_000 });
  return new URL(page.url());
}

export function discover(server: TestServer, clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(server.issuer),
    clientId,
    secret,
    secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
}

/**
 * Opens an authorization URL that redirects straight back to the app (signed in, consent
 * remembered). Playwright does not route a redirect that leaves an unrouted navigation, so the
 * browser may fail to resolve the app's made-up host; the request it tried is what matters.
 */
export async function gotoExpectingCallback(page: Page, url: URL): Promise<URL> {
  const request = page.waitForRequest((candidate) => candidate.url().startsWith(APP_ORIGIN), { timeout: 15_000 });
  await page.goto(url.href).catch((error: Error) => {
    if (!error.message.includes('ERR_NAME_NOT_RESOLVED')) throw error;
  });
  return new URL((await request).url());
}
