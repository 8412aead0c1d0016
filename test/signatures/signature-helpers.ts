import crypto from 'node:crypto';
import { expect } from 'vitest';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import type { TestServer } from '../helpers/server.js';
import { partnerKey, secretClient, type KeyJson, type PartnerKey } from '../clients/client-key-helpers.js';

// What the signed-request tests share: a partner with keys, signatures made here with Node's
// crypto over a hand-written RFC 9421 signature base (independently of the library), and the two
// questions an API asks Tollgate.

export interface SigningPartner {
  api: ApiFixture;
  clientId: string;
  hmac: { keyid: string; secret: string };
  ed25519: { keyid: string; key: PartnerKey };
}

export async function addKey(server: TestServer, clientId: string, body: unknown): Promise<KeyJson> {
  const response = await server.admin('post', `/clients/${clientId}/keys`, body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as KeyJson;
}

/** An API, and a client allowed its read scope with an HMAC key and an Ed25519 key. */
export async function signingPartner(server: TestServer, api?: ApiFixture): Promise<SigningPartner> {
  const theApi = api ?? (await createApi(server));
  const clientId = await secretClient(server, [theApi.scopes[0]!]);
  const hmac = await addKey(server, clientId, { hmac: true });
  const key = partnerKey('ed25519');
  const ed = await addKey(server, clientId, { public_key: key.pem });
  return {
    api: theApi,
    clientId,
    hmac: { keyid: hmac.keyid, secret: hmac.secret! },
    ed25519: { keyid: ed.keyid, key },
  };
}

/** The endpoints' paths, read from discovery as an API's library would. */
export async function signaturePaths(server: TestServer): Promise<{ lookup: string; verify: string }> {
  const response = await server
    .public()
    .get(`${new URL(server.issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const { signature_key_lookup_endpoint: lookup, signature_verification_endpoint: verify } = response.body as Record<
    string,
    string | undefined
  >;
  expect(lookup, 'discovery names signature_key_lookup_endpoint').toEqual(expect.any(String));
  expect(verify, 'discovery names signature_verification_endpoint').toEqual(expect.any(String));
  return { lookup: new URL(lookup!).pathname, verify: new URL(verify!).pathname };
}

export const now = () => Math.floor(Date.now() / 1000);

export function newNonce(): string {
  return crypto.randomBytes(16).toString('base64url');
}

/** An RFC 9421 signature base for a POST with a body, as a library would build it (§2.5). */
export function signatureBase(keyid: string, alg: string, created: number, nonce: string, path = '/orders'): string {
  const digest = crypto.createHash('sha256').update('{"item":42}').digest('base64');
  return [
    '"@method": POST',
    `"@target-uri": https://orders.example.com${path}`,
    `"content-digest": sha-256=:${digest}:`,
    `"@signature-params": ("@method" "@target-uri" "content-digest");created=${created};keyid="${keyid}";nonce="${nonce}";alg="${alg}"`,
  ].join('\n');
}

/** HMAC-SHA256 under the secret's UTF-8 bytes, base64: what a partner sends in Signature. */
export function hmacSignature(secret: string, base: string): string {
  return crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(base).digest('base64');
}

/** Sends `form` (values may repeat) to `path`, from `ip` when given; expects no particular status. */
export function ask(server: TestServer, path: string, form: Record<string, string | string[]>, ip?: string) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form))
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  const request = server.public().post(path).type('form');
  return (ip ? request.set('X-Forwarded-For', ip) : request).send(body.toString());
}

/** A complete, valid question for an HMAC key: fields to send to signatures/verify. */
export function hmacQuestion(partner: SigningPartner, overrides: { created?: number; nonce?: string } = {}) {
  const created = overrides.created ?? now();
  const nonce = overrides.nonce ?? newNonce();
  const base = signatureBase(partner.hmac.keyid, 'hmac-sha256', created, nonce);
  return {
    keyid: partner.hmac.keyid,
    audience: partner.api.identifier,
    nonce,
    created: String(created),
    signature_base: base,
    signature: hmacSignature(partner.hmac.secret, base),
  };
}

/** `tollgate_signature_verifications_total{result}` on the admin listener (0 before the first). */
export async function verifications(server: TestServer, result: string): Promise<number> {
  const response = await server.admin('get', '/metrics');
  expect(response.status).toBe(200);
  const line = response.text
    .split('\n')
    .find((row) => row.startsWith(`tollgate_signature_verifications_total{result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Waits until `server` looks `keyid` up active: an instance learns of an API made on another within 5 s. */
export async function untilKnown(server: TestServer, keyid: string, audience: string): Promise<void> {
  const { lookup } = await signaturePaths(server);
  const deadline = Date.now() + 6000;
  for (;;) {
    if ((await ask(server, lookup, { keyid, audience })).body.active === true) return;
    if (Date.now() > deadline) throw new Error(`${keyid} never became known on ${server.issuer}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
