import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTooManyRequests, randomIp, rateLimited } from '../helpers/rate-limits.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ask, hmacQuestion, signaturePaths, signingPartner, type SigningPartner } from './signature-helpers.js';

// Neither endpoint is an oracle: an address whose questions keep coming back inactive
// (SIGNATURE_VERIFICATION_FAILURE_LIMIT) gets 429 on both until the window ends.

const FAILURE_LIMIT = 4;
let server: TestServer;
let partner: SigningPartner;
let paths: { lookup: string; verify: string };

beforeAll(async () => {
  server = await startServer({
    env: { TRUST_PROXY: 'true', SIGNATURE_VERIFICATION_FAILURE_LIMIT: `${FAILURE_LIMIT}/h` },
  });
  partner = await signingPartner(server);
  paths = await signaturePaths(server);
});

afterAll(() => server?.close());

const unknownKeyid = () => `ck_${crypto.randomBytes(16).toString('base64url')}`;

describe('an address whose questions keep failing', () => {
  it(`gets 429 on both endpoints after ${FAILURE_LIMIT} inactive answers, from either, until the window ends`, async () => {
    const ip = randomIp();
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const path = i % 2 ? paths.lookup : paths.verify;
      const question =
        i % 2
          ? { keyid: unknownKeyid(), audience: partner.api.identifier }
          : { ...hmacQuestion(partner), signature: 'AAAA' };
      expect((await ask(server, path, question, ip)).body).toEqual({ active: false });
    }
    const before = await rateLimited(server, 'signature_verification_failures');
    const good = hmacQuestion(partner);
    const refused = await ask(server, paths.verify, good, ip);
    expectTooManyRequests(refused, 3600);
    expectTooManyRequests(
      await ask(server, paths.lookup, { keyid: partner.ed25519.keyid, audience: partner.api.identifier }, ip),
      3600,
    );
    expect(await rateLimited(server, 'signature_verification_failures')).toBe(before + 2);
    // The refused question recorded nothing: another address gets the same signature through.
    expect((await ask(server, paths.verify, good)).body).toMatchObject({ active: true });
  });

  it('does not count keyids of no keyid shape (no look-up), malformed questions, nor valid answers', async () => {
    const ip = randomIp();
    for (let i = 0; i < FAILURE_LIMIT + 2; i++) {
      expect(
        (await ask(server, paths.lookup, { keyid: `nope-${i}`, audience: partner.api.identifier }, ip)).body,
      ).toEqual({
        active: false,
      });
      expect((await ask(server, paths.verify, { keyid: partner.hmac.keyid }, ip)).status).toBe(400);
      expect((await ask(server, paths.verify, hmacQuestion(partner), ip)).body).toMatchObject({ active: true });
    }
  });

  it('counts a replayed nonce', async () => {
    const ip = randomIp();
    const question = hmacQuestion(partner);
    expect((await ask(server, paths.verify, question, ip)).body).toMatchObject({ active: true });
    for (let i = 0; i < FAILURE_LIMIT; i++)
      expect((await ask(server, paths.verify, question, ip)).body).toEqual({ active: false });
    expectTooManyRequests(await ask(server, paths.verify, hmacQuestion(partner), ip), 3600);
  });
});
