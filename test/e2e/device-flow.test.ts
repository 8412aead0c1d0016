import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptThrottle } from '../../src/pages/interactions/attempt-throttle.js';
import { storedId } from '../../src/artefacts/artefact-ids.js';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { onPostgres, unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { discover, signIn } from '../helpers/web-app.js';

const PASSWORD = 'harbor-lilac-93-fjord';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

describe.skipIf(!browserAvailable)('a CLI signs in with the device flow (RFC 8628)', () => {
  let server: TestServer;
  let api: ApiFixture;
  let browser: BrowserContext;
  let username: string;
  let userId: string;
  let clientId: string;
  let config: oidc.Configuration;

  beforeAll(async () => {
    server = await startServer({ env: { DEVICE_POLL_INTERVAL: '1' } });
    api = await createApi(server, { name: 'Orders API' });
    username = unique('lin-');
    userId = (await server.admin('post', '/users', { username, password: PASSWORD })).body.id;
    const client = await server.admin('post', '/clients', {
      name: 'Acme CLI',
      public: true,
      first_party: true,
      grant_types: ['device_code', 'refresh_token'],
      scopes: ['openid', 'offline_access', api.scopes[0]],
    });
    expect(client.status, JSON.stringify(client.body)).toBe(201);
    clientId = client.body.client_id;
    config = await discover(server, clientId);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  function start(scope = `openid offline_access ${api.scopes[0]}`) {
    return oidc.initiateDeviceAuthorization(config, { scope });
  }

  async function pollOnce(deviceCode: string) {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: deviceCode,
        client_id: clientId,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string | number> };
  }

  async function enterCode(page: Page, code: string) {
    await page.goto(`${server.issuer}/device`);
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('issues RFC 8628 codes with interval and verification URIs', async () => {
    const response = await start();
    expect(response.user_code).toMatch(USER_CODE);
    expect(response.verification_uri).toBe(`${server.issuer}/device`);
    expect(response.verification_uri_complete).toBe(`${server.issuer}/device?user_code=${response.user_code}`);
    expect(response.interval).toBe(1);
    expect(response.expires_in).toBe(600);
  });

  it('a person approves on their phone; the CLI gets tokens once, and a refresh token', async () => {
    const response = await start();
    const polling = oidc.pollDeviceAuthorizationGrant(config, response);

    const page = await browser.newPage();
    await page.goto(response.verification_uri_complete!);
    expect(await page.getByLabel('Code').inputValue()).toBe(response.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    const confirmation = await page.textContent('main');
    expect(confirmation).toContain('Acme CLI');
    expect(confirmation).toContain(response.user_code);
    expect(confirmation).toContain(api.scopes[0]);
    expect(confirmation).toMatch(/only allow this if you started it yourself/i);
    await page.getByRole('button', { name: 'Allow' }).click();
    await signIn(page, username, PASSWORD);
    await page.getByRole('heading', { name: 'Your device is connected' }).waitFor();
    await page.close();

    const tokens = await polling;
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: api.identifier,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ sub: userId, client_id: clientId, scope: api.scopes[0] });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    // The device code yields tokens once.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await pollOnce(response.device_code);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('the confirmation is never skipped, even for a first-party client the person already allowed', async () => {
    const response = await start();
    const page = await browser.newPage();
    await enterCode(page, response.user_code.toLowerCase().replace('-', '')); // any case, no dash
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await page.textContent('main')).toContain('Acme CLI');
    await page.getByRole('button', { name: 'Allow' }).click();
    // Still signed in from the previous test: straight to the result.
    await page.getByRole('heading', { name: 'Your device is connected' }).waitFor();
    await page.close();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await pollOnce(response.device_code)).status).toBe(200);
  });

  it('"Deny" ends the poll with access_denied', async () => {
    const response = await start();
    const page = await browser.newPage();
    await enterCode(page, response.user_code);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('heading', { name: 'Request denied' }).waitFor();
    await page.close();
    const poll = await pollOnce(response.device_code);
    expect(poll.body.error).toBe('access_denied');
  });

  it('is authorization_pending until decided, and slow_down when polled faster than the interval', async () => {
    const response = await start();
    const first = await pollOnce(response.device_code);
    expect(first.body.error).toBe('authorization_pending');
    const second = await pollOnce(response.device_code);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('slow_down');
    expect(second.body.interval).toBe(6);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await pollOnce(response.device_code)).body.error).toBe('slow_down'); // the interval grew to 6 s
  });

  it('an expired device code is expired_token, still answered after its lifetime', async () => {
    const response = await start();
    const db = server.tollgate.database.knex;
    const row = await db('oidc_payloads')
      .where({ kind: 'DeviceCode', id: storedId('DeviceCode', response.device_code) })
      .first();
    expect(row).toBeTruthy();
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    payload.exp = Math.floor(Date.now() / 1000) - 1;
    await db('oidc_payloads')
      .where({ kind: 'DeviceCode', id: row.id })
      .update({ payload: JSON.stringify(payload), expires_at: new Date(Date.now() - 1000) });
    await server.tollgate.sweepExpired(); // within the grace period: kept
    expect((await pollOnce(response.device_code)).body.error).toBe('expired_token');

    const page = await browser.newPage();
    await enterCode(page, response.user_code);
    expect(await page.textContent('main')).toContain('That code has expired');
    await page.close();
  });

  it('a wrong code is a readable error, and guessing is throttled per IP', async () => {
    const page = await browser.newPage();
    await enterCode(page, 'BBBB-BBBB');
    expect(await page.textContent('main')).toContain('That code is not valid');
    let throttled = false;
    for (let i = 0; i < 12 && !throttled; i += 1) {
      await enterCode(page, 'BCDF-GHJK');
      throttled = (await page.textContent('main'))!.includes('Too many attempts');
    }
    expect(throttled).toBe(true);
    await page.close();
  });

  it.skipIf(!onPostgres)('10 concurrent polls after approval on PostgreSQL yield tokens exactly once', async () => {
    // The guessing test above throttled this IP for device codes.
    const throttle = new AttemptThrottle(server.tollgate.database.knex);
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1']) await throttle.clear({ kind: 'device', value: ip });
    const response = await start();
    const page = await browser.newPage();
    await enterCode(page, response.user_code);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Your device is connected' }).waitFor();
    await page.close();
    const polls = await Promise.all(Array.from({ length: 10 }, () => pollOnce(response.device_code)));
    expect(polls.filter((poll) => poll.status === 200)).toHaveLength(1);
    for (const poll of polls.filter((p) => p.status !== 200)) expect(poll.body.error).toBe('invalid_grant');
  });
});
