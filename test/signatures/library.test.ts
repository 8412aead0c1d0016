import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type SignatureCaller, type Verifier } from '@tollgate/resource-server';
import { RecordingFetch } from '../api-keys/library-helpers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  ALGS,
  addKey,
  createSignaturePartner,
  refusal,
  sign,
  SERVER_ENV,
  type SignaturePartner,
} from './library-helpers.js';

// Signed requests (RFC 9421) through @tollgate/resource-server's verifyRequest against a real
// Tollgate: the key looked up and the nonce registered through the two endpoints of the protocol
// agreed for issue 18 (signature_key_lookup_endpoint, signature_verification_endpoint). Every
// signature is made by the tests' hand-written signer. NEEDS THE SERVER BRANCH of issue 18: on a
// Tollgate without those endpoints every request here is a 503.

let server: TestServer;
let partner: SignaturePartner;
let recording: RecordingFetch;
let verifier: Verifier;

const URL_ = 'https://api.example.com/orders?status=open';
const BODY = '{"sku":"A-1","qty":2}';
const post = (body = BODY) => ({ method: 'POST', url: URL_, body, headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  server = await startServer({ env: SERVER_ENV });
  partner = await createSignaturePartner(server);
  recording = await RecordingFetch.create();
  verifier = createVerifier({ issuer: server.issuer, audience: partner.api.identifier, fetch: recording.fetch });
});

afterAll(async () => {
  await recording?.close();
  await server?.close();
});

describe('verifyRequest with schemes: [signature]', () => {
  it.each(ALGS)('accepts a request signed with %s: the client, its scope here, the key', async (alg) => {
    const key = partner.keys[alg];
    const caller = (await verifier.verifyRequest(sign(key, post()), {
      schemes: ['signature'],
      scopes: [partner.api.scopes[0]!],
    })) as SignatureCaller;
    expect(caller).toMatchObject({
      scheme: 'signature',
      sub: partner.clientId,
      client_id: partner.clientId,
      scope: partner.api.scopes[0],
      aud: partner.api.identifier,
      keyid: key.keyid,
      alg,
    });
    expect(caller.created).toBeGreaterThan(0);
    expect(caller.nonce).toEqual(expect.any(String));
  });

  it('carries evidence for a public key (what was signed, by which key, when), none for HMAC', async () => {
    const ed = (await verifier.verifyRequest(sign(partner.keys.ed25519, post()), {
      schemes: ['signature'],
    })) as SignatureCaller;
    expect(ed.evidence).toMatchObject({ keyid: partner.keys.ed25519.keyid, created: ed.created });
    expect(ed.evidence!.signatureBase).toContain(`"@target-uri": ${URL_}`);
    expect(ed.evidence!.signatureInput).toMatch(/^sig1=\("@method" "@target-uri" "content-digest"\);created=/);
    expect(Buffer.from(ed.evidence!.signature, 'base64')).toHaveLength(64);
    const hmac = (await verifier.verifyRequest(sign(partner.keys['hmac-sha256'], post()), {
      schemes: ['signature'],
    })) as SignatureCaller;
    expect(hmac.evidence).toBeUndefined();
  });

  it('a scope the client lacks is 403 insufficient_scope', async () => {
    const refused = await refusal(verifier, sign(partner.keys.ed25519, post()), {
      schemes: ['signature'],
      scopes: [partner.api.scopes[1]!],
    });
    expect(refused).toMatchObject({ status: 403, code: 'insufficient_scope' });
  });

  it('a tampered body, method or URL is refused with 401 invalid_signature; no nonce registered', async () => {
    for (const alg of ALGS) {
      const signed = sign(partner.keys[alg], post());
      const before = recording.requests.length;
      // The body against Content-Digest is checked before anything is asked: no question at all.
      const body = await refusal(verifier, { ...signed, body: BODY.replace('2', '20') });
      expect(body).toMatchObject({ status: 401, code: 'invalid_signature' });
      expect(body.description).toMatch(/does not match/);
      expect(recording.requests.length, alg).toBe(before);
      for (const request of [
        { ...signed, method: 'PUT' },
        { ...signed, url: URL_.replace('open', 'closed') },
      ]) {
        const refused = await refusal(verifier, request);
        expect(refused).toMatchObject({ status: 401, code: 'invalid_signature' });
        expect(refused.wwwAuthenticate).toMatch(/^Signature error="invalid_signature"/);
        expect(refused.acceptSignature).toBe('sig1=("@method" "@target-uri" "content-digest");created;nonce');
      }
      // A public key's signature fails here, after the key's lookup at most: its nonce is never sent.
      // An HMAC signature can only be checked by Tollgate, which refuses it.
      const verifications = recording.requests.slice(before).filter((question) => question.form?.has('nonce'));
      expect(verifications, alg).toHaveLength(alg === 'hmac-sha256' ? 2 : 0);
      // The genuine request, untouched, is still accepted: the refusals burnt nothing.
      await expect(verifier.verifyRequest(signed, { schemes: ['signature'] })).resolves.toMatchObject({ alg });
    }
  });

  it('a stale signature, a missing nonce, a signature not covering the body: refused without a question', async () => {
    const before = recording.requests.length;
    const stale = sign(partner.keys.ed25519, post(), { created: Math.floor(Date.now() / 1000) - 600 });
    expect((await refusal(verifier, stale)).description).toMatch(/created too long ago/);
    const bodyless = sign(partner.keys.ed25519, { method: 'POST', url: URL_ });
    expect((await refusal(verifier, { ...bodyless, body: BODY })).description).toMatch(/content-digest/);
    expect(recording.requests.length).toBe(before);
  });

  it('an unknown keyid is 401, and a key of another API (the client has no scope there) too', async () => {
    const unknown = { ...partner.keys.ed25519, keyid: 'ck_nobodyhasthiskeyatall00' };
    expect(await refusal(verifier, sign(unknown, post()))).toMatchObject({
      status: 401,
      code: 'invalid_signature',
      description: 'unknown key ck_nobodyhasthiskeyatall00',
    });
    const elsewhere = createVerifier({ issuer: server.issuer, audience: 'https://unrelated.example.com' });
    expect((await refusal(elsewhere, sign(partner.keys.ed25519, post()))).description).toMatch(/unknown key/);
  });

  it('HMAC is checked by Tollgate: a signature with another secret of the same length is refused', async () => {
    const key = partner.keys['hmac-sha256'];
    const forged = {
      ...key,
      private: Buffer.from(key.private.toString('utf8').replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))),
    };
    const refused = await refusal(verifier, sign(forged, post()));
    expect(refused).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(refused.description).toMatch(/does not verify/);
    const asked = recording.questions.at(-1)!;
    expect(asked.form!.get('signature_base')).toContain('"@signature-params": ');
    expect(asked.form!.has('signature')).toBe(true);
  });

  it('a replayed request is refused, by this verifier and by another verifier instance on the same Tollgate', async () => {
    const other = createVerifier({ issuer: server.issuer, audience: partner.api.identifier });
    for (const alg of ALGS) {
      const request = sign(partner.keys[alg], post());
      await verifier.verifyRequest(request, { schemes: ['signature'] });
      expect(await refusal(other, request), alg).toMatchObject({ status: 401, code: 'invalid_signature' });
      expect(await refusal(verifier, request), alg).toMatchObject({ status: 401, code: 'invalid_signature' });
    }
  });

  it('a refused request does not burn its nonce: the genuine request with that nonce is accepted after', async () => {
    const nonce = `burn-${Date.now()}`;
    const genuine = sign(partner.keys['hmac-sha256'], post(), { nonce });
    await refusal(verifier, { ...genuine, method: 'PUT' });
    await expect(verifier.verifyRequest(genuine, { schemes: ['signature'] })).resolves.toMatchObject({ nonce });
  });

  it('a removed key is refused within 5 seconds', async () => {
    for (const alg of ['ed25519', 'hmac-sha256'] as const) {
      const key = await addKey(server, partner.clientId, alg);
      await verifier.verifyRequest(sign(key, post()), { schemes: ['signature'] });
      const removed = await server.admin('delete', `/clients/${partner.clientId}/keys/${key.keyid}`);
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      const deadline = Date.now() + 5000;
      let outcome: unknown;
      do {
        outcome = await verifier
          .verifyRequest(sign(key, post()), { schemes: ['signature'] })
          .catch((error: unknown) => error);
        if ((outcome as { status?: number }).status === 401) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } while (Date.now() < deadline);
      expect(outcome, alg).toMatchObject({ status: 401, code: 'invalid_signature' });
    }
  });

  it('a signature beside an Authorization header is 400: two credentials', async () => {
    const signed = sign(partner.keys.ed25519, post());
    const refused = await refusal(
      verifier,
      { ...signed, headers: { ...signed.headers, authorization: 'Bearer something' } },
      { schemes: ['bearer', 'signature'] },
    );
    expect(refused).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('an unsigned request to a signature-only API is 401 invalid_signature with Accept-Signature', async () => {
    const refused = await refusal(verifier, { method: 'GET', url: URL_, headers: {} });
    expect(refused).toMatchObject({
      status: 401,
      code: 'invalid_signature',
      description: 'the request is not signed',
      acceptSignature: 'sig1=("@method" "@target-uri");created;nonce',
    });
  });

  it('Tollgate unreachable is 503 temporarily_unavailable, never 401, and not remembered', async () => {
    const down = await RecordingFetch.create();
    try {
      const cut = createVerifier({
        issuer: server.issuer,
        audience: partner.api.identifier,
        fetch: down.fetch,
        timeout: 1,
      });
      for (const alg of ['ed25519', 'hmac-sha256'] as const) {
        // Discovery and the lookup answered, then Tollgate goes away before the nonce is registered.
        await cut.verifyRequest(sign(partner.keys[alg], post()), { schemes: ['signature'] });
        down.route = 'refused';
        const refused = await refusal(cut, sign(partner.keys[alg], post()));
        expect(refused).toMatchObject({ status: 503, code: 'temporarily_unavailable', wwwAuthenticate: undefined });
        down.route = 'hang';
        expect((await refusal(cut, sign(partner.keys[alg], post()))).status).toBe(503);
        down.route = 'tollgate';
        await expect(
          cut.verifyRequest(sign(partner.keys[alg], post()), { schemes: ['signature'] }),
        ).resolves.toMatchObject({ keyid: partner.keys[alg].keyid });
      }
    } finally {
      await down.close();
    }
  });
});
