import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { partnerKey } from '../clients/client-key-helpers.js';
import {
  addKey,
  ask,
  hmacQuestion,
  hmacSignature,
  newNonce,
  now,
  signaturePaths,
  signatureBase,
  signingPartner,
  verifications,
  type SigningPartner,
} from './signature-helpers.js';

// POST {issuer}/signatures/verify: an HMAC signature checked where its secret is kept, and the
// nonce of every signed request recorded so that a replay is refused.

let server: TestServer;
let partner: SigningPartner;
let path: string;

beforeAll(async () => {
  server = await startServer();
  partner = await signingPartner(server);
  path = (await signaturePaths(server)).verify;
});

afterAll(() => server?.close());

async function verify(form: Record<string, string | string[]>) {
  const response = await ask(server, path, form);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body as Record<string, unknown>;
}

const activeAnswer = () => ({
  active: true,
  keyid: partner.hmac.keyid,
  alg: 'hmac-sha256',
  client_id: partner.clientId,
  sub: partner.clientId,
  scope: partner.api.scopes[0],
  aud: partner.api.identifier,
  cache_seconds: 5,
});

describe('an HMAC signature', () => {
  it('is verified with the secret shown once, and counted valid', async () => {
    const before = await verifications(server, 'valid');
    expect(await verify(hmacQuestion(partner))).toEqual(activeAnswer());
    expect(await verifications(server, 'valid')).toBe(before + 1);
  });

  it('answers JSON questions alike (created as a number, audience as an array)', async () => {
    const question = hmacQuestion(partner);
    const response = await server
      .public()
      .post(path)
      .send({ ...question, created: Number(question.created), audience: [partner.api.identifier] });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(activeAnswer());
  });

  it('is refused when the signature is of another base, another secret, or truncated', async () => {
    const before = await verifications(server, 'invalid');
    const other = await addKey(server, partner.clientId, { hmac: true });
    const good = hmacQuestion(partner);
    const otherPath = signatureBase(partner.hmac.keyid, 'hmac-sha256', Number(good.created), good.nonce, '/refunds');
    for (const signature of [
      hmacSignature(partner.hmac.secret, otherPath),
      hmacSignature(other.secret!, good.signature_base),
      Buffer.from(good.signature, 'base64').subarray(0, 31).toString('base64'),
      Buffer.alloc(32).toString('base64'),
    ])
      expect(await verify({ ...good, signature })).toEqual({ active: false });
    expect(await verifications(server, 'invalid')).toBe(before + 4);
    // None of them burnt the nonce: the genuine request still goes through.
    expect(await verify(good)).toEqual(activeAnswer());
  });

  it("is refused under another HMAC key's keyid (its signature is not made with that secret)", async () => {
    const other = await addKey(server, partner.clientId, { hmac: true });
    expect(await verify({ ...hmacQuestion(partner), keyid: other.keyid })).toEqual({ active: false });
  });

  it('is refused when created is more than 300 s away, either way; accepted inside', async () => {
    // The server reads its clock when the question arrives, after this one: a future `created` gets
    // closer meanwhile and a past one further, so each case keeps 20 s from the edge on the side the
    // delay moves it (on a loaded machine, +301 arrived as +300 and was rightly accepted).
    for (const created of [now() - 301, now() + 320, now() - 100_000, 0])
      expect(await verify(hmacQuestion(partner, { created }))).toEqual({ active: false });
    for (const created of [now() - 280, now() + 299])
      expect(await verify(hmacQuestion(partner, { created }))).toEqual(activeAnswer());
  });

  it('is refused the second time its nonce is seen, and counted as a replay', async () => {
    const question = hmacQuestion(partner);
    expect(await verify(question)).toEqual(activeAnswer());
    const before = await verifications(server, 'replayed');
    expect(await verify(question)).toEqual({ active: false });
    expect(await verifications(server, 'replayed')).toBe(before + 1);
    // A fresh signature with the same nonce (another created) is a replay of that nonce too.
    expect(await verify(hmacQuestion(partner, { nonce: question.nonce, created: now() - 1 }))).toEqual({
      active: false,
    });
    // The same nonce under another key is that key's own.
    const other = await signingPartner(server, partner.api);
    const base = signatureBase(other.hmac.keyid, 'hmac-sha256', Number(question.created), question.nonce);
    expect(
      await verify({
        ...question,
        keyid: other.hmac.keyid,
        signature_base: base,
        signature: hmacSignature(other.hmac.secret, base),
      }),
    ).toMatchObject({ active: true, keyid: other.hmac.keyid });
  });

  it('keeps a nonce until created + 300 s and a margin, then the sweeper forgets it', async () => {
    const created = now() + 200;
    const question = hmacQuestion(partner, { created });
    expect(await verify(question)).toMatchObject({ active: true });
    const knex = server.tollgate.database.knex;
    const row = await knex('signature_nonces').where({ keyid: partner.hmac.keyid, nonce: question.nonce }).first();
    const expires = new Date(row.expires_at).getTime() / 1000;
    expect(expires).toBeGreaterThanOrEqual(created + 300);
    expect(expires).toBeLessThanOrEqual(created + 300 + 120);
    // An expired row (as if its time had come) is swept; a live one stays.
    const stale = newNonce();
    await knex('signature_nonces').insert({ keyid: partner.hmac.keyid, nonce: stale, expires_at: new Date(0) });
    await server.tollgate.sweepExpired();
    expect(await knex('signature_nonces').where({ nonce: stale })).toEqual([]);
    expect(await knex('signature_nonces').where({ nonce: question.nonce })).toHaveLength(1);
  });
});

describe('the nonce of a public-key signature (verified by the API itself)', () => {
  const question = () => ({
    keyid: partner.ed25519.keyid,
    audience: partner.api.identifier,
    nonce: newNonce(),
    created: String(now()),
  });

  it('is recorded once: active the first time, refused after', async () => {
    const asked = question();
    const answer = await verify(asked);
    expect(answer).toEqual({
      active: true,
      keyid: partner.ed25519.keyid,
      alg: 'ed25519',
      client_id: partner.clientId,
      sub: partner.clientId,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      cache_seconds: 5,
    });
    expect(answer).not.toHaveProperty('jwk');
    expect(await verify(asked)).toEqual({ active: false });
  });

  it('is not recorded for a created out of the window, a removed key, a disabled client or another API', async () => {
    const own = await signingPartner(server, partner.api);
    const asked = { ...question(), keyid: own.ed25519.keyid };
    expect(await verify({ ...asked, created: String(now() - 400) })).toEqual({ active: false });
    expect(await verify({ ...asked, audience: 'https://elsewhere.example.com' })).toEqual({ active: false });
    await server.admin('patch', `/clients/${own.clientId}`, { disabled: true });
    expect(await verify(asked)).toEqual({ active: false });
    await server.admin('patch', `/clients/${own.clientId}`, { disabled: false });
    // None of those recorded the nonce.
    expect(await verify(asked)).toMatchObject({ active: true });
    const key = await addKey(server, own.clientId, {
      public_key: partnerKey('p256').pem,
    });
    await server.admin('delete', `/clients/${own.clientId}/keys/${key.keyid}`);
    expect(await verify({ ...question(), keyid: key.keyid })).toEqual({ active: false });
  });
});

describe('questions that do not fit the key', () => {
  it('an HMAC key without signature_base and signature: 400, and the nonce is not burnt', async () => {
    const good = hmacQuestion(partner);
    const { signature_base: _base, signature: _signature, ...bare } = good;
    const response = await ask(server, path, bare);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain('signature_base');
    expect(await verify(good)).toEqual(activeAnswer());
  });

  it('a public key with signature fields: 400, and the nonce is not burnt', async () => {
    const asked = {
      keyid: partner.ed25519.keyid,
      audience: partner.api.identifier,
      nonce: newNonce(),
      created: String(now()),
    };
    const response = await ask(server, path, { ...asked, signature_base: 'x', signature: 'AAAA' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(await verify(asked)).toMatchObject({ active: true });
  });

  it.each([
    ['no nonce', { nonce: undefined }, 'nonce'],
    ['a nonce of 257 characters', { nonce: 'n'.repeat(257) }, 'nonce'],
    ['a nonce with a control character', { nonce: 'a\u0000b' }, 'nonce'],
    ['no created', { created: undefined }, 'created'],
    ['a created that is not an integer', { created: '12.5' }, 'created'],
    ['created twice', { created: ['1', '2'] }, 'created'],
    ['signature without signature_base', { signature_base: undefined }, 'signature_base'],
    ['signature_base without signature', { signature: undefined }, 'signature'],
    ['a signature that is not base64', { signature: 'not base64!' }, 'signature'],
    ['a signature base over 16 KiB', { signature_base: 'x'.repeat(16 * 1024 + 1) }, 'signature_base'],
    ['no keyid', { keyid: undefined }, 'keyid'],
  ])('%s: 400 invalid_request, the nonce not burnt', async (_name, change, named) => {
    const good = hmacQuestion(partner);
    const form: Record<string, string | string[]> = { ...good };
    for (const [name, value] of Object.entries(change)) {
      if (value === undefined) delete form[name];
      else form[name] = value;
    }
    const response = await ask(server, path, form);
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain(named);
    expect(await verify(good)).toEqual(activeAnswer());
  });

  it('answers another method 405 with Allow: POST', async () => {
    const response = await server.public().put(path).send({});
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });
});

describe('the secret', () => {
  it('never appears in a log line, an answer or an error', async () => {
    const good = hmacQuestion(partner);
    const answers = [
      await ask(server, path, good),
      await ask(server, path, good),
      await ask(server, path, { ...good, signature: crypto.randomBytes(32).toString('base64'), nonce: newNonce() }),
      await ask(server, path, { ...good, created: 'soon' }),
    ];
    for (const answer of answers) expect(answer.text).not.toContain(partner.hmac.secret);
    expect(server.logs.join('\n')).not.toContain(partner.hmac.secret);
    expect(server.logs.join('\n')).not.toContain(good.signature);
    // Nor, in the database, anything but its sealed form.
    const rows = await server.tollgate.database.knex('client_keys').where({ keyid: partner.hmac.keyid });
    expect(JSON.stringify(rows)).not.toContain(partner.hmac.secret);
  });
});
