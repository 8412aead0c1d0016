import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/database.js';
import { createApi } from '../helpers/fixtures.js';
import { tokenSuite } from '../helpers/token-suite.js';

// Revocation and introspection of these tokens: test/oidc/revocation-introspection.test.ts.

const IDLE = 3600;
const ABSOLUTE = 7200;

const suite = tokenSuite({
  env: { REFRESH_TOKEN_IDLE_TTL: String(IDLE), REFRESH_TOKEN_ABSOLUTE_TTL: String(ABSOLUTE) },
});
const { post, refresh, tokensFor, webAuth, mobileAuth } = suite;

describe('refresh tokens', () => {
  it('rotate on every use (openid-client), keeping the API audience', async () => {
    const first = await tokensFor(webAuth());
    const config = await oidc.discovery(
      new URL(suite.server.issuer),
      suite.web.client_id,
      suite.web.client_secret,
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const second = await oidc.refreshTokenGrant(config, first.refresh_token);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const third = await oidc.refreshTokenGrant(config, second.refresh_token!);
    expect(third.refresh_token).not.toBe(second.refresh_token);
    const claims = JSON.parse(Buffer.from(third.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ aud: suite.api.identifier, sub: suite.userId, client_id: suite.web.client_id });
  });

  // The refresh rate is bounded by database round trips: the token and its grant are read in
  // one statement; the old token is consumed and its successor inserted in another. Users,
  // clients and APIs come from caches.
  it('cost two database statements each', async () => {
    const first = await tokensFor(webAuth());
    const warm = await refresh(first.refresh_token);
    expect(warm.status).toBe(200);
    const pool = suite.server.tollgate.database.knex.client as { acquireConnection(): Promise<unknown> };
    const acquire = pool.acquireConnection;
    let statements = 0;
    pool.acquireConnection = function counted(this: unknown) {
      statements += 1;
      return acquire.call(this);
    };
    try {
      const rotated = await refresh(String(warm.body.refresh_token));
      expect(rotated.status).toBe(200);
    } finally {
      pool.acquireConnection = acquire;
    }
    expect(statements).toBe(2);
  });

  // The adapter's own defence: whatever the edge lets through, an id of the wrong shape (length,
  // characters, a NUL byte PostgreSQL would refuse with an error) never reaches the database.
  it('an id Tollgate cannot have issued is not found, without a database query', async () => {
    const first = await tokensFor(webAuth());
    expect((await refresh(first.refresh_token)).status).toBe(200); // the client is cached now
    const pool = suite.server.tollgate.database.knex.client as { acquireConnection(): Promise<unknown> };
    const acquire = pool.acquireConnection;
    let statements = 0;
    pool.acquireConnection = function counted(this: unknown) {
      statements += 1;
      return acquire.call(this);
    };
    // (A NUL byte never gets this far: the input guard refuses it first; test/http/malformed-input.test.ts.)
    const malformed = [
      'short',
      'A'.repeat(44),
      `${'A'.repeat(42)}.`,
      `${'A'.repeat(42)}é`,
      `${'A'.repeat(21)} ${'A'.repeat(21)}`,
    ];
    try {
      for (const token of malformed) {
        const refused = await refresh(token);
        expect(refused.status, JSON.stringify(refused.body)).toBe(400);
        expect(refused.body.error).toBe('invalid_grant');
        const introspected = await post('/token/introspection', { token }, webAuth());
        expect(introspected.status).toBe(200);
        expect(introspected.body.active).toBe(false);
        expect((await post('/token/revocation', { token }, webAuth())).status).toBe(200);
      }
    } finally {
      pool.acquireConnection = acquire;
    }
    expect(statements).toBe(0);
  });

  it('a used refresh token presented again revokes the whole family', async () => {
    const first = await tokensFor(webAuth());
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    const afterReuse = await refresh(String(rotated.body.refresh_token));
    expect(afterReuse.status).toBe(400);
    expect(afterReuse.body.error).toBe('invalid_grant');
  });

  it('belong to the client they were issued to', async () => {
    const first = await tokensFor(webAuth());
    const stolen = await refresh(first.refresh_token, mobileAuth() as never);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
  });

  it('expire after the idle lifetime, and never outlive the absolute one', async () => {
    const db = suite.server.tollgate.database.knex;
    const first = await tokensFor(webAuth());
    const idleRow = await db('oidc_payloads')
      .where({ kind: 'RefreshToken' })
      .whereRaw("payload->>'accountId' = ?", [suite.userId])
      .orderBy('expires_at', 'desc')
      .first();
    const idleLeft = (new Date(idleRow.expires_at).getTime() - Date.now()) / 1000;
    expect(idleLeft).toBeGreaterThan(IDLE - 30);
    expect(idleLeft).toBeLessThanOrEqual(IDLE + 1);

    // Pretend the family began almost ABSOLUTE seconds ago: the next rotation gets only the rest.
    const rows = await db('oidc_payloads')
      .where({ kind: 'RefreshToken' })
      .whereRaw(
        "payload->>'grantId' = (SELECT payload->>'grantId' FROM oidc_payloads WHERE kind = 'RefreshToken' AND id = ?)",
        [idleRow.id],
      );
    for (const row of rows) {
      const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
      payload.iiat = Math.floor(Date.now() / 1000) - ABSOLUTE + 120;
      await db('oidc_payloads')
        .where({ kind: row.kind, id: row.id })
        .update({ payload: JSON.stringify(payload) });
    }
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const capped = await db('oidc_payloads')
      .where({ kind: 'RefreshToken' })
      .whereNull('consumed_at')
      .whereRaw("payload->>'grantId' = ?", [
        (typeof idleRow.payload === 'string' ? JSON.parse(idleRow.payload) : idleRow.payload).grantId,
      ])
      .first();
    const cappedLeft = (new Date(capped.expires_at).getTime() - Date.now()) / 1000;
    expect(cappedLeft).toBeGreaterThan(60);
    expect(cappedLeft).toBeLessThanOrEqual(121);
  });

  it('public clients get and rotate them too', async () => {
    const first = await tokensFor(mobileAuth());
    const rotated = await refresh(first.refresh_token, mobileAuth() as never);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
  });

  // PGlite serialises every query; only PostgreSQL shows what parallel requests do.
  it.skipIf(!onPostgres)(
    '10 concurrent uses of one refresh token on PostgreSQL: one succeeds and the family dies',
    async () => {
      const first = await tokensFor(webAuth());
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(first.refresh_token)));
      const winners = results.filter((result) => result.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((result) => result.status !== 200))
        expect(loser.body.error).toBe('invalid_grant');
      const afterRace = await refresh(String(winners[0]!.body.refresh_token));
      expect(afterRace.body.error).toBe('invalid_grant');
    },
  );
});

// The contract: a token request that fails changes nothing; the refresh token it presented
// still works, once. oidc-provider decides the rotation before it resolves the resource and mints
// the tokens; Tollgate writes it only when the response is a success (RefreshRotation).
describe('a refresh that fails after the rotation was decided', () => {
  it('naming another API (invalid_target) leaves the presented token working, once', async () => {
    const other = await createApi(suite.server);
    const first = await tokensFor(webAuth());
    const failed = await post(
      '/token',
      { grant_type: 'refresh_token', refresh_token: first.refresh_token, resource: other.identifier },
      webAuth(),
    );
    expect(failed.status, JSON.stringify(failed.body)).toBe(400);
    expect(failed.body.error).toBe('invalid_target');
    expect(failed.body.refresh_token).toBeUndefined();

    const retried = await refresh(first.refresh_token);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect((await refresh(String(retried.body.refresh_token))).status).toBe(200);
    // Used once now: presenting it again is reuse, as ever.
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('a server error while minting the tokens leaves it working too', async () => {
    const first = await tokensFor(mobileAuth());
    const { IdToken } = suite.server.tollgate.provider;
    const issue = IdToken.prototype.issue;
    IdToken.prototype.issue = async function failing() {
      throw new Error('signing failed (test)');
    };
    let failed;
    try {
      failed = await refresh(first.refresh_token, mobileAuth() as never);
    } finally {
      IdToken.prototype.issue = issue;
    }
    expect(failed.status).toBe(500);
    expect(failed.body.error).toBe('server_error');
    const retried = await refresh(first.refresh_token, mobileAuth() as never);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect((await refresh(String(retried.body.refresh_token), mobileAuth() as never)).status).toBe(200);
  });

  it.skipIf(!onPostgres)(
    'on PostgreSQL, failing refreshes racing a good one burn nothing: the good one rotates, the family lives',
    async () => {
      const other = await createApi(suite.server);
      const first = await tokensFor(webAuth());
      const failing = Array.from({ length: 5 }, () =>
        post(
          '/token',
          { grant_type: 'refresh_token', refresh_token: first.refresh_token, resource: other.identifier },
          webAuth(),
        ),
      );
      const [good, ...failed] = await Promise.all([refresh(first.refresh_token), ...failing]);
      expect(good!.status, JSON.stringify(good!.body)).toBe(200);
      for (const result of failed) expect(result.body.error).toBe('invalid_target');
      expect((await refresh(String(good!.body.refresh_token))).status).toBe(200);
    },
  );

  // Deliberate (README, Security notes): once a rotation is committed, the response is the only
  // copy of the successor. If it is lost (a crash, a dropped connection), the client's retry
  // with the old token cannot be told from a replay by a thief, so the family ends
  // (RFC 9700 §4.14.2) and the person signs in again; there is no grace period.
  it('a response lost after a committed rotation: the retry ends the family, successor included', async () => {
    const first = await tokensFor(webAuth());
    const lost = await refresh(first.refresh_token);
    expect(lost.status).toBe(200);
    const retried = await refresh(first.refresh_token);
    expect(retried.status).toBe(400);
    expect(retried.body.error).toBe('invalid_grant');
    expect((await refresh(String(lost.body.refresh_token))).body.error).toBe('invalid_grant');
  });
});
