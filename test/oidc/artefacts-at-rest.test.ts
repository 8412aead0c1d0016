import type { Knex } from 'knex';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { storedId } from '../../src/artefacts/artefact-ids.js';
import { unique } from '../helpers/database.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { REDIRECT_URI, discover, startAuthorization } from '../helpers/web-app.js';

const PASSWORD = 'quartz-meadow-31-otters';

/** Every row of every table, as text: what a database dump would give away. */
async function dump(db: Knex): Promise<string> {
  const tables: { table_name: string }[] = await db('information_schema.tables')
    .select('table_name')
    .whereRaw('table_schema = current_schema()')
    .andWhere('table_type', 'BASE TABLE');
  const rows: Record<string, unknown[]> = {};
  for (const { table_name: table } of tables) rows[table] = await db(table).select();
  return JSON.stringify(rows);
}

/**
 * A person's browser, as far as the server can tell: it keeps cookies, follows redirects and
 * submits the pages' forms (no browser is needed to show what the database keeps).
 */
class Visitor {
  readonly cookies = new Map<string, string>();

  /** The values of the cookies oidc-provider set (the session's and the interaction's ids), not their signatures. */
  heldCookies(): string[] {
    return [...this.cookies]
      .filter(([name, value]) => name.startsWith('_') && !name.endsWith('.sig') && value)
      .map(([, value]) => value);
  }

  /** Follows redirects until a page, or the app's redirect URI (returned as `url`, not visited). */
  async go(url: string, form?: Record<string, string>): Promise<{ url: string; status: number; page: string }> {
    let next = url;
    let body: URLSearchParams | undefined = form && new URLSearchParams(form);
    for (let hop = 0; hop < 10; hop += 1) {
      if (next.startsWith(REDIRECT_URI)) return { url: next, status: 303, page: '' };
      const headers: Record<string, string> = {
        accept: 'text/html',
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      };
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const response = await fetch(next, { method: body ? 'POST' : 'GET', headers, body, redirect: 'manual' });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const at = pair.indexOf('=');
        this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location)
        return { url: next, status: response.status, page: await response.text() };
      await response.arrayBuffer();
      next = new URL(location, next).href;
      body = undefined;
    }
    throw new Error('too many redirects');
  }

  /** Submits the page's form with its hidden fields and these. */
  submit(page: string, pageUrl: string, fields: Record<string, string>): ReturnType<Visitor['go']> {
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`no form on the page: ${page.slice(0, 300)}`);
    const hidden = Object.fromEntries(
      [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [
        match[1]!,
        match[2]!,
      ]),
    );
    return this.go(new URL(action.replaceAll('&amp;', '&'), pageUrl).href, { ...hidden, ...fields });
  }
}

describe('OAuth artefacts at rest: the database holds no value a client or browser holds', () => {
  let server: TestServer;
  let db: Knex;
  let api: ApiFixture;
  const person = new Visitor();
  let username: string;
  let web: oidc.Configuration;
  let cli: oidc.Configuration;
  let cliId: string;
  /** Every bearer secret handed out so far. */
  const held = new Set<string>();

  async function expectNoneStored(): Promise<void> {
    const text = await dump(db);
    for (const value of held) expect(text.includes(value), `the database holds ${value.slice(0, 6)}…`).toBe(false);
  }

  beforeAll(async () => {
    server = await startServer({ env: { DEVICE_POLL_INTERVAL: '1' } });
    db = server.tollgate.database.knex;
    api = await createApi(server);
    username = unique('rest-');
    expect((await server.admin('post', '/users', { username, password: PASSWORD })).status).toBe(201);
    const scopes = ['openid', 'offline_access', api.scopes[0]];
    const webClient = (
      await server.admin('post', '/clients', {
        name: 'Rest Web',
        public: true,
        first_party: true,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://app.example.test/callback'],
        scopes,
      })
    ).body;
    web = await discover(server, webClient.client_id);
    const cliClient = (
      await server.admin('post', '/clients', {
        name: 'Rest CLI',
        public: true,
        first_party: true,
        grant_types: ['device_code', 'refresh_token'],
        scopes,
      })
    ).body;
    cliId = cliClient.client_id;
    cli = await discover(server, cliId);
  });

  afterAll(() => server?.close());

  /** A person approves a device's user code (signed in already). */
  async function approve(userCode: string): Promise<void> {
    const entry = await person.go(`${server.issuer}/device`);
    const confirm = await person.submit(entry.page, entry.url, { user_code: userCode });
    expect(confirm.page).toContain('Rest CLI');
    const done = await person.submit(confirm.page, confirm.url, { confirm: 'yes' });
    expect(done.page).toContain('Your device is connected');
  }

  it('authorization code with PKCE, refresh, session and interaction cookies', async () => {
    const start = await startAuthorization(web, {
      scope: `openid offline_access ${api.scopes[0]}`,
      resource: api.identifier,
    });
    const login = await person.go(start.url.href);
    expect(login.page).toContain('Sign in');
    for (const value of person.heldCookies()) held.add(value);
    expect(held.size).toBeGreaterThan(0); // the interaction cookie
    await expectNoneStored();
    const callback = new URL((await person.submit(login.page, login.url, { username, password: PASSWORD })).url);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();
    held.add(code);
    expect(person.cookies.get('_session')).toBeTruthy();
    for (const value of person.heldCookies()) held.add(value); // the session cookie
    await expectNoneStored();

    const tokens = await oidc.authorizationCodeGrant(web, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    held.add(tokens.refresh_token!);
    held.add(tokens.access_token);
    const rotated = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    held.add(rotated.refresh_token!);
    await expectNoneStored();
    // Stored under its digest, which is what a lookup computes.
    expect(
      await db('oidc_payloads')
        .where({ kind: 'RefreshToken', id: storedId('RefreshToken', rotated.refresh_token!) })
        .first(),
    ).toBeTruthy();
  });

  it('a third-party client: the consent page resumes the sealed interaction, and a code follows', async () => {
    const thirdParty = (
      await server.admin('post', '/clients', {
        name: 'Rest Partner',
        public: true,
        grant_types: ['authorization_code'],
        redirect_uris: ['https://app.example.test/callback'],
        scopes: ['openid', api.scopes[0]],
      })
    ).body;
    const config = await discover(server, thirdParty.client_id);
    const start = await startAuthorization(config, { scope: `openid ${api.scopes[0]}`, resource: api.identifier });
    const consent = await person.go(start.url.href); // signed in already
    expect(consent.page).toContain('Allow access?');
    for (const value of person.heldCookies()) held.add(value);
    await expectNoneStored();
    const callback = new URL((await person.submit(consent.page, consent.url, { decision: 'allow' })).url);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });
    expect(tokens.access_token).toBeTruthy();
    held.add(callback.searchParams.get('code')!);
    await expectNoneStored();
  });

  it('a pushed authorization request (RFC 9126): its request_uri is not stored, and still works', async () => {
    const start = await startAuthorization(web, {
      scope: `openid offline_access ${api.scopes[0]}`,
      resource: api.identifier,
    });
    const pushed = await fetch(`${server.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: start.url.searchParams,
    });
    expect(pushed.status).toBe(201);
    const requestUri = ((await pushed.json()) as { request_uri: string }).request_uri;
    const id = requestUri.split(':').pop()!;
    held.add(id);
    await expectNoneStored();
    const authorization = new URL(`${server.issuer}/auth`);
    authorization.search = new URLSearchParams({
      client_id: start.url.searchParams.get('client_id')!,
      request_uri: requestUri,
    }).toString();
    // Signed in already: straight back to the app with a code.
    const callback = new URL((await person.go(authorization.href)).url);
    expect(callback.searchParams.get('state')).toBe(start.state);
    held.add(callback.searchParams.get('code')!);
    await expectNoneStored();
  });

  it('device flow: neither the device code nor the user code is stored', async () => {
    const response = await oidc.initiateDeviceAuthorization(cli, { scope: `openid offline_access ${api.scopes[0]}` });
    held.add(response.device_code);
    held.add(response.user_code);
    held.add(response.user_code.replace('-', ''));
    await expectNoneStored();
    const polling = oidc.pollDeviceAuthorizationGrant(cli, response);
    await approve(response.user_code);
    const tokens = await polling;
    held.add(tokens.refresh_token!);
    await expectNoneStored();
  });

  it('what the database holds cannot be presented: stored ids are not tokens', async () => {
    const rows: { kind: string; id: string }[] = await db('oidc_payloads').select('kind', 'id');
    const refreshIds = rows.filter((row) => row.kind === 'RefreshToken').map((row) => row.id);
    expect(refreshIds.length).toBeGreaterThan(0);
    for (const id of refreshIds) {
      const stolen = await fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: id, client_id: cliId }),
      });
      expect(stolen.status).toBe(400);
      expect(((await stolen.json()) as { error: string }).error).toBe('invalid_grant');
    }
    for (const { id } of rows.filter((row) => row.kind === 'DeviceCode')) {
      const polled = await fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: id,
          client_id: cliId,
        }),
      });
      expect(((await polled.json()) as { error: string }).error).toBe('invalid_grant');
    }
  });

  it('a row in the old format (plain id, jti in the payload) is migrated by 005 and keeps working', async () => {
    const response = await oidc.initiateDeviceAuthorization(cli, { scope: `openid offline_access ${api.scopes[0]}` });
    const polling = oidc.pollDeviceAuthorizationGrant(cli, response);
    await approve(response.user_code);
    const tokens = await polling;
    const refreshToken = tokens.refresh_token!;

    // Written as Tollgate before 005 wrote it: the id itself as key, and again as `jti`.
    const hashed = storedId('RefreshToken', refreshToken);
    const row = await db('oidc_payloads').where({ kind: 'RefreshToken', id: hashed }).first();
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    await db('oidc_payloads')
      .where({ kind: 'RefreshToken', id: hashed })
      .update({ id: refreshToken, payload: JSON.stringify({ ...payload, jti: refreshToken }) });
    expect(await dump(db)).toContain(refreshToken);

    const migration = migrations.find((candidate) => candidate.name === '005_hashed_payload_ids')!;
    await db.transaction((trx) => migration.up(trx));
    expect(await dump(db)).not.toContain(refreshToken);
    await db.transaction((trx) => migration.up(trx)); // again: nothing left to change
    const migrated = await db('oidc_payloads').where({ kind: 'RefreshToken', id: hashed }).first();
    expect(migrated).toBeTruthy();
    expect(JSON.stringify(migrated.payload)).not.toContain('jti');

    const refreshed = await oidc.refreshTokenGrant(cli, refreshToken);
    expect(refreshed.refresh_token).toBeTruthy();
  });
});
