import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@tollgate/resource-server';
import { seal } from '../../src/keys/sealed-box.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addKey, createSignaturePartner, refusal, sign, SERVER_ENV, type SignaturePartner } from './library-helpers.js';
import { ask, hmacSignature, newNonce, now, signatureBase, signaturePaths } from './signature-helpers.js';

// An HMAC secret is kept sealed under the key-encryption key (src/keys/sealed-records.ts has the
// rule). A sealed secret that no longer opens — its row altered in the database, or sealed under
// a key-encryption key that is not configured — makes its key unusable: the signature is refused
// as for an unknown key, never a 5xx; one error line names the key (never the secret or the sealed
// value), and every other key keeps working. The rows are altered with SQL, as an attacker with
// write access to the database or a botched restore would.

let server: TestServer;
let partner: SignaturePartner;
let path: string;
/** A partner's request, as the library hands it to Tollgate: JSON body, content-digest covered. */
const post = () => ({ method: 'POST', url: 'https://api.example.com/orders', body: '{"sku":"A-1","qty":2}' });

beforeAll(async () => {
  server = await startServer({ env: SERVER_ENV });
  partner = await createSignaturePartner(server);
  path = (await signaturePaths(server)).verify;
});

/** Keys this file altered: removed at the end, since on PostgreSQL other test files' servers share the table. */
const altered: string[] = [];

afterAll(async () => {
  if (altered.length) await server.tollgate.database.knex('client_keys').whereIn('keyid', altered).delete();
  await server?.close();
});

const sealedSecretOf = async (keyid: string): Promise<string> =>
  ((await server.tollgate.database.knex('client_keys').where({ keyid }).first()) as { secret_sealed: string })
    .secret_sealed;

function setSealedSecret(keyid: string, sealed: string) {
  altered.push(keyid);
  return server.tollgate.database.knex('client_keys').where({ keyid }).update({ secret_sealed: sealed });
}

/** The question the library sends for an HMAC-signed request, signed here with `secret`. */
function question(keyid: string, secret: string) {
  const created = now();
  const nonce = newNonce();
  const base = signatureBase(keyid, 'hmac-sha256', created, nonce);
  return {
    keyid,
    audience: partner.api.identifier,
    nonce,
    created: String(created),
    signature_base: base,
    signature: hmacSignature(secret, base),
  };
}

/** The log lines (parsed) that name this key as unusable. */
function unusableLines(keyid: string): Record<string, unknown>[] {
  return server.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes(keyid) && line.includes('does not open'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('an HMAC key whose sealed secret does not open', () => {
  it('is refused ({active: false}, never 5xx) when its row was altered, logged once, other keys unaffected', async () => {
    const key = await addKey(server, partner.clientId, 'hmac-sha256');
    const secret = key.private.toString('utf8');
    const sealed = await sealedSecretOf(key.keyid);
    // One character of the ciphertext changed: AES-GCM's tag no longer matches.
    const parts = sealed.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    await setSealedSecret(key.keyid, parts.join('.'));

    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await ask(server, path, question(key.keyid, secret));
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toEqual({ active: false });
    }
    const lines = unusableLines(key.keyid);
    expect(lines, 'one error line for three refusals within the interval').toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, client_key: key.keyid });
    expect(String(lines[0]!.reason)).toMatch(/failed authentication/);
    const everything = server.logs.join('');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(parts[3]);

    // The client's other keys, HMAC and public, still verify.
    const other = partner.keys['hmac-sha256'];
    const answer = await ask(server, path, question(other.keyid, other.private.toString('utf8')));
    expect(answer.body).toMatchObject({ active: true, keyid: other.keyid });
    const verifier = createVerifier({ issuer: server.issuer, audience: partner.api.identifier });
    await expect(
      verifier.verifyRequest(sign(partner.keys.ed25519, post()), { schemes: ['signature'] }),
    ).resolves.toMatchObject({ keyid: partner.keys.ed25519.keyid });
    await expect(verifier.verifyRequest(sign(other, post()), { schemes: ['signature'] })).resolves.toMatchObject({
      keyid: other.keyid,
    });
  });

  it('is refused when its secret was sealed under a key-encryption key that is not configured', async () => {
    const key = await addKey(server, partner.clientId, 'hmac-sha256');
    const secret = key.private.toString('utf8');
    // A secret sealed as Tollgate seals it (same context), under a key this Tollgate does not have.
    await setSealedSecret(key.keyid, seal(crypto.randomBytes(32), secret, `client_key ${key.keyid}`));

    const response = await ask(server, path, question(key.keyid, secret));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({ active: false });
    const lines = unusableLines(key.keyid);
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.reason)).toMatch(/not configured/);
  });

  it('makes the library refuse the signed request with a 401 (invalid signature), not a 503', async () => {
    const key = await addKey(server, partner.clientId, 'hmac-sha256');
    // Another key's sealed secret copied onto this row: bound to its own keyid, it does not open here.
    await setSealedSecret(key.keyid, await sealedSecretOf(partner.keys['hmac-sha256'].keyid));
    const verifier = createVerifier({ issuer: server.issuer, audience: partner.api.identifier });
    const refused = await refusal(verifier, sign(key, post()));
    expect(refused.status).toBe(401);
    expect(refused.description).toMatch(/does not verify/);
    expect(unusableLines(key.keyid)).toHaveLength(1);
  });
});
