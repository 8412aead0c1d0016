import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { partnerKey, secretClient } from '../clients/client-key-helpers.js';
import { addKey, ask, signaturePaths, signingPartner, type SigningPartner } from './signature-helpers.js';

// POST {issuer}/signature-keys/lookup: an API asks for the key of a signed request's keyid.

let server: TestServer;
let partner: SigningPartner;
let path: string;

beforeAll(async () => {
  server = await startServer();
  partner = await signingPartner(server);
  path = (await signaturePaths(server)).lookup;
});

afterAll(() => server?.close());

async function lookup(keyid: string, audience: string | string[] = partner.api.identifier) {
  const response = await ask(server, path, { keyid, audience });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body as Record<string, unknown>;
}

describe('the key of a keyid', () => {
  it.each([
    ['ed25519', 'ed25519' as const],
    ['ecdsa-p256-sha256', 'p256' as const],
    ['rsa-pss-sha512', 'rsa' as const],
  ])('answers a %s key with its public JWK, the client and its scopes of the API', async (alg, kind) => {
    const key = partnerKey(kind);
    const added = await addKey(server, partner.clientId, { public_key: key.pem });
    const answer = await lookup(added.keyid);
    expect(answer).toEqual({
      active: true,
      keyid: added.keyid,
      alg,
      client_id: partner.clientId,
      sub: partner.clientId,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      jwk: expect.any(Object),
      cache_seconds: 5,
    });
    // The JWK is the partner's public key: it verifies what the private key signs.
    const publicKey = crypto.createPublicKey({ key: answer.jwk as crypto.JsonWebKey, format: 'jwk' });
    const data = Buffer.from('signature base');
    const signature =
      kind === 'ed25519' ? crypto.sign(null, data, key.privateKey) : crypto.sign('sha256', data, key.privateKey);
    expect(crypto.verify(kind === 'ed25519' ? null : 'sha256', data, publicKey, signature)).toBe(true);
    expect(answer.jwk).not.toHaveProperty('d');
  });

  it('answers an HMAC key without any key material: its secret never leaves Tollgate', async () => {
    const answer = await lookup(partner.hmac.keyid);
    expect(answer).toEqual({
      active: true,
      keyid: partner.hmac.keyid,
      alg: 'hmac-sha256',
      client_id: partner.clientId,
      sub: partner.clientId,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      cache_seconds: 5,
    });
    expect(JSON.stringify(answer)).not.toContain(partner.hmac.secret);
  });

  it('answers JSON questions alike, audience as an array, aud the APIs reached', async () => {
    const other = await createApi(server);
    const response = await server
      .public()
      .post(path)
      .send({ keyid: partner.ed25519.keyid, audience: [other.identifier, partner.api.identifier] });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ active: true, aud: [partner.api.identifier], scope: partner.api.scopes[0] });
  });
});

describe('keys an API must not use', () => {
  it('an unknown keyid, or one of no keyid shape: {active:false}', async () => {
    expect(await lookup(`ck_${crypto.randomBytes(16).toString('base64url')}`)).toEqual({ active: false });
    expect(await lookup('not-a-keyid')).toEqual({ active: false });
  });

  it('a removed key: {active:false} at once', async () => {
    const added = await addKey(server, partner.clientId, { hmac: true });
    expect(await lookup(added.keyid)).toMatchObject({ active: true });
    expect((await server.admin('delete', `/clients/${partner.clientId}/keys/${added.keyid}`)).status).toBe(200);
    expect(await lookup(added.keyid)).toEqual({ active: false });
  });

  it('a key of a disabled client (active again once enabled), or of a deleted client', async () => {
    const own = await signingPartner(server, partner.api);
    expect(await lookup(own.ed25519.keyid)).toMatchObject({ active: true });
    await server.admin('patch', `/clients/${own.clientId}`, { disabled: true });
    expect(await lookup(own.ed25519.keyid)).toEqual({ active: false });
    expect(await lookup(own.hmac.keyid)).toEqual({ active: false });
    await server.admin('patch', `/clients/${own.clientId}`, { disabled: false });
    expect(await lookup(own.ed25519.keyid)).toMatchObject({ active: true });
    expect((await server.admin('delete', `/clients/${own.clientId}`)).status).toBe(200);
    expect(await lookup(own.ed25519.keyid)).toEqual({ active: false });
  });

  it("another API's audience, or a client allowed no scope of the asked API", async () => {
    const other = await createApi(server);
    expect(await lookup(partner.ed25519.keyid, other.identifier)).toEqual({ active: false });
    const scopeless = await secretClient(server, []);
    const key = await addKey(server, scopeless, { hmac: true });
    expect(await lookup(key.keyid)).toEqual({ active: false });
  });
});

describe('malformed questions and other methods', () => {
  it.each([
    ['no keyid', { audience: 'https://a.example.com' }, 'keyid'],
    ['keyid twice', { keyid: ['ck_a', 'ck_b'], audience: 'https://a.example.com' }, 'keyid'],
    ['no audience', { keyid: 'ck_a' }, 'audience'],
    [
      '21 audiences',
      { keyid: 'ck_a', audience: Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`) },
      'audience',
    ],
    ['an empty audience', { keyid: 'ck_a', audience: ['https://a.example.com', ''] }, 'audience'],
  ])('%s: 400 invalid_request', async (_name, form, named) => {
    const response = await ask(server, path, form as Record<string, string | string[]>);
    expect(response.status).toBe(400);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain(named);
  });

  it('answers another method 405 with Allow: POST, and a body of another type 400', async () => {
    const get = await server.public().get(path);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(get.headers['cache-control']).toBe('no-store');
    const text = await server.public().post(path).type('text/plain').send('keyid=ck_a');
    expect(text.status).toBe(400);
    expect(text.body.error).toBe('invalid_request');
  });

  it('logs the request and names its route in the metrics, never the question', async () => {
    await ask(server, path, { keyid: partner.hmac.keyid, audience: partner.api.identifier });
    const lines = server.logs.filter((line) => line.includes(path));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(partner.hmac.keyid);
    const metrics = await server.admin('get', '/metrics');
    expect(metrics.text).toContain('route="signature_key_lookup"');
  });
});
