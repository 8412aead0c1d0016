import crypto from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  APP_ORIGIN,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  discover,
  interceptApp,
  signIn,
  startAuthorization,
} from '../helpers/web-app.js';

/**
 * Issue 14 item 9: oidc-provider's self-submitting form — the form_post response mode and sign-out
 * without a session — works under the pages' Content-Security-Policy: exactly its inline script
 * may run (by hash), and the form may go where oidc-provider sends it.
 */
const PASSWORD = 'linen-harbour-63-wren';

let server: TestServer;
let client: { client_id: string; client_secret: string };
let username: string;

function directive(csp: string, name: string): string[] | undefined {
  const found = csp
    .split(';')
    .map((part) => part.trim().split(/\s+/))
    .find(([directiveName]) => directiveName === name);
  return found?.slice(1);
}

beforeAll(async () => {
  server = await startServer();
  username = unique('wren-');
  expect((await server.admin('post', '/users', { username, password: PASSWORD })).status).toBe(201);
  const created = await server.admin('post', '/clients', {
    name: unique('Form Post App '),
    grant_types: ['authorization_code'],
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    scopes: ['openid'],
    first_party: true,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  client = created.body;
});
afterAll(async () => {
  await server?.close();
});

describe("the self-submitting form's policy", () => {
  it('allows exactly its inline script by hash, no other script, and forms only to itself', async () => {
    const response = await server.public().get('/session/end');
    expect(response.status).toBe(200);
    const script = /<script>([\s\S]*?)<\/script>/.exec(response.text)?.[1];
    expect(script).toBeDefined();
    const csp = response.headers['content-security-policy'] as string;
    expect(directive(csp, 'script-src')).toEqual([
      `'sha256-${crypto.createHash('sha256').update(script!).digest('base64')}'`,
    ]);
    expect(directive(csp, 'default-src')).toEqual(["'none'"]);
    expect(directive(csp, 'form-action')).toEqual(["'self'"]);
    expect(directive(csp, 'frame-ancestors')).toEqual(["'none'"]);
    // The page still works without script.
    expect(response.text).toMatch(/<noscript>[\s\S]*<button[^>]*type="submit"/);
  });

  it("form_post: allows its script and a form to the client's redirect URI, carrying a code that redeems", async () => {
    const agent = server.public();
    const verifier = crypto.randomBytes(32).toString('base64url');
    const start = await agent.get('/auth').query({
      client_id: client.client_id,
      response_type: 'code',
      response_mode: 'form_post',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: 'st',
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(start.status).toBe(303);
    const login = await agent.get(new URL(start.headers.location as string, server.issuer).pathname);
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(login.text)?.[1];
    const signedIn = await agent.post(action!).type('form').send({ csrf, username, password: PASSWORD });
    expect(signedIn.status).toBe(303);
    const response = await agent.get(new URL(signedIn.headers.location as string, server.issuer).pathname);
    expect(response.status).toBe(200);
    expect(response.text).toContain(`action="${REDIRECT_URI}"`);
    const script = /<script>([\s\S]*?)<\/script>/.exec(response.text)?.[1];
    const csp = response.headers['content-security-policy'] as string;
    expect(directive(csp, 'script-src')).toEqual([
      `'sha256-${crypto.createHash('sha256').update(script!).digest('base64')}'`,
    ]);
    expect(directive(csp, 'form-action')).toEqual(["'self'", APP_ORIGIN]);
    const code = /name="code" value="([^"]+)"/.exec(response.text)?.[1];
    const token = await server
      .public()
      .post('/token')
      .auth(client.client_id, client.client_secret)
      .type('form')
      .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
  });

  it('sign-out from a client: allows the form to reach the post-logout URI it redirects to', async () => {
    const agent = server.public();
    const page = await agent
      .get('/session/end')
      .query({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const csp = page.headers['content-security-policy'] as string;
    expect(directive(csp, 'form-action')).toEqual(["'self'", APP_ORIGIN]);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    const confirmed = await agent.post('/session/end/confirm').type('form').send({ xsrf, logout: 'yes' });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`${POST_LOGOUT_URI}?state=bye`);
  });

  it('leaves every other page without script', async () => {
    const device = await server.public().get('/device');
    expect(device.headers['content-security-policy']).not.toMatch(/sha256-/);
    const discovery = await server.public().get('/.well-known/openid-configuration');
    expect(directive(discovery.headers['content-security-policy'] as string, 'script-src')).toEqual(["'none'"]);
  });
});

describe.skipIf(!browserAvailable)('in a real browser', () => {
  let browser: BrowserContext;
  const violations: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    await interceptApp(browser);
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    return page;
  }

  it('sign-out without a session ends on the "signed out" page', async () => {
    const page = await newPage();
    await page.goto(`${server.issuer}/session/end`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor({ timeout: 15_000 });
    await page.close();
    expect(violations).toEqual([]);
  });

  it('sign-out without a session, from a client, returns to its post-logout URI', async () => {
    const page = await newPage();
    const returned = page.waitForRequest((request) => request.url().startsWith(APP_ORIGIN), { timeout: 15_000 });
    await page.goto(
      `${server.issuer}/session/end?${new URLSearchParams({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' })}`,
    );
    const url = new URL((await returned).url());
    expect(`${url.origin}${url.pathname}`).toBe(POST_LOGOUT_URI);
    expect(url.searchParams.get('state')).toBe('bye');
    await page.close();
    expect(violations).toEqual([]);
  });

  // Last: it signs the browser in, and the sign-out tests above need it without a session.
  it("form_post delivers the code to the client's redirect URI, which redeems it", async () => {
    const config = await discover(server, client.client_id, client.client_secret);
    const start = await startAuthorization(config, { scope: 'openid', response_mode: 'form_post' });
    const page = await newPage();
    await page.goto(start.url.href);
    const delivered = page.waitForRequest((request) => request.url() === REDIRECT_URI && request.method() === 'POST', {
      timeout: 15_000,
    });
    await signIn(page, username, PASSWORD);
    const form = new URLSearchParams((await delivered).postData() ?? '');
    expect(form.get('state')).toBe(start.state);
    expect(form.get('iss')).toBe(server.issuer);
    const code = form.get('code');
    expect(code).toBeTruthy();

    const token = await server
      .public()
      .post('/token')
      .auth(client.client_id, client.client_secret)
      .type('form')
      .send({ grant_type: 'authorization_code', code, code_verifier: start.verifier, redirect_uri: REDIRECT_URI });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.id_token).toBeTruthy();
    await page.close();
    expect(violations).toEqual([]);
  });
});
