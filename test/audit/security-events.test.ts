import { beforeAll, describe, expect, it, vi } from 'vitest';
import { unique } from '../helpers/database.js';
import { tokenSuite } from '../helpers/token-suite.js';
import { REDIRECT_URI, discover, startAuthorization } from '../helpers/web-app.js';
import { auditLines, expectNoSecret, listAudit, type AuditJson } from './audit-helpers.js';

/**
 * Security events in the audit log, after the real thing: a refresh token presented again (its
 * family revoked), a wrong password through the sign-in form, and a sign-in refused by the
 * throttle. None holds the token or the password tried.
 */

// Each checked password is a 128 MiB scrypt, two at a time: a dozen take a while on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const suite = tokenSuite({ env: { TRUST_PROXY: 'true' } });
const { refresh, tokensFor, webAuth } = suite;
const PASSWORD = 'amber-orchard-57-lantern';

/** This file's entries of one type (test files may share a PostgreSQL). */
async function entries(type: string, match: (entry: AuditJson) => boolean): Promise<AuditJson[]> {
  return (await listAudit(suite.server, `type=${type}&limit=1000`)).filter(match);
}

describe('a refresh token presented again', () => {
  it('is recorded once, by the client about the account, with the family revoked and no token', async () => {
    const first = await tokensFor(webAuth());
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    const reuse = await refresh(first.refresh_token);
    expect(reuse.body.error).toBe('invalid_grant');

    const found = await entries('refresh_token.reused', (entry) => entry.actor === suite.web.client_id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      actor: suite.web.client_id,
      subject: suite.userId,
      detail: { client_id: suite.web.client_id, family_revoked: true, grant_id: expect.any(String) },
    });
    expect(found[0]!.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);

    const secrets = {
      refreshToken: first.refresh_token,
      successor: String(rotated.body.refresh_token),
      accessToken: first.access_token,
      clientSecret: suite.web.client_secret,
    };
    expectNoSecret(JSON.stringify(found), secrets);
    expectNoSecret(JSON.stringify(auditLines(suite.server)), secrets);
  });

  it('a normal rotation is no reuse', async () => {
    const before = (await entries('refresh_token.reused', (entry) => entry.actor === suite.web.client_id)).length;
    const first = await tokensFor(webAuth());
    expect((await refresh(first.refresh_token)).status).toBe(200);
    expect(await entries('refresh_token.reused', (entry) => entry.actor === suite.web.client_id)).toHaveLength(before);
  });

  it('two concurrent presentations of one token: one succeeds, the other is recorded as reuse', async () => {
    const before = (await entries('refresh_token.reused', (entry) => entry.actor === suite.web.client_id)).length;
    const first = await tokensFor(webAuth());
    const results = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 400]);
    expect(await entries('refresh_token.reused', (entry) => entry.actor === suite.web.client_id)).toHaveLength(
      before + 1,
    );
  });
});

describe('sign-in', () => {
  let client: { id: string; secret: string };

  beforeAll(async () => {
    const response = await suite.server.admin('post', '/clients', {
      name: unique('audit-web-'),
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT_URI],
      scopes: ['openid'],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    client = { id: response.body.client_id, secret: response.body.client_secret };
  });

  async function openLoginForm() {
    const config = await discover(suite.server, client.id, client.secret);
    const start = await startAuthorization(config, { scope: 'openid' });
    const agent = suite.server.public();
    const authorization = await agent.get(`${start.url.pathname}${start.url.search}`);
    const login = await agent.get(new URL(authorization.headers.location!, suite.server.issuer).pathname);
    expect(login.status).toBe(200);
    const action = /<form method="post" action="([^"]+)"/.exec(login.text)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)![1]!;
    return (username: string, password: string, address: string) =>
      agent.post(action).type('form').set('X-Forwarded-For', address).send({ csrf, username, password });
  }

  async function createUser(): Promise<string> {
    const username = unique('audit-user-');
    expect((await suite.server.admin('post', '/users', { username, password: PASSWORD })).status).toBe(201);
    return username;
  }

  it('a wrong password: anonymous, about the username tried, from the address TRUST_PROXY says; never the password', async () => {
    const username = await createUser();
    const attempt = await openLoginForm();
    const wrong = `wrong-${unique('')}-guess`;
    expect((await attempt(username, wrong, '203.0.113.7')).status).toBe(401);
    const nobody = unique('nobody-');
    expect((await attempt(nobody, wrong, '203.0.113.8')).status).toBe(401);

    const [failed] = await entries('sign_in.failed', (entry) => entry.subject === username);
    expect(failed).toMatchObject({
      actor: 'anonymous',
      subject: username,
      ip: '203.0.113.7',
      detail: { client_id: client.id, reason: 'wrong_password' },
    });
    const [unknown] = await entries('sign_in.failed', (entry) => entry.subject === nobody);
    expect(unknown).toMatchObject({ ip: '203.0.113.8', detail: { reason: 'unknown_user' } });

    // The right password is no failure.
    expect((await attempt(username, PASSWORD, '203.0.113.7')).status).toBe(303);
    expect(await entries('sign_in.failed', (entry) => entry.subject === username)).toHaveLength(1);

    const secrets = { wrong, right: PASSWORD };
    expectNoSecret(JSON.stringify(await listAudit(suite.server, 'type=sign_in.*&limit=1000')), secrets);
    expectNoSecret(JSON.stringify(auditLines(suite.server)), secrets);
  });

  it('throttled: the first refusal per username and address is recorded, the repeats within a minute are not', async () => {
    const username = await createUser();
    const attempt = await openLoginForm();
    const address = '198.51.100.23';
    const failed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => attempt(username, `wrong-guess-${i}-xyz`, address)),
    );
    expect(failed.map((response) => response.status)).toEqual(Array(10).fill(401));
    expect(await entries('sign_in.failed', (entry) => entry.subject === username)).toHaveLength(10);

    expect((await attempt(username, 'wrong-guess-11-xyz', address)).status).toBe(429);
    expect((await attempt(username, PASSWORD, address)).status).toBe(429);
    const throttled = await entries('sign_in.throttled', (entry) => entry.subject === username);
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({
      actor: 'anonymous',
      ip: address,
      detail: { client_id: client.id, retry_after: expect.any(Number) },
    });
    // Refusals are not failures: the password was not checked.
    expect(await entries('sign_in.failed', (entry) => entry.subject === username)).toHaveLength(10);
    expectNoSecret(JSON.stringify(throttled), { right: PASSWORD });
  });
});
