import crypto from 'node:crypto';
import { expect } from 'vitest';
import { ResourceServerError, type Verifier, type VerifyRequestOptions } from '@tollgate/resource-server';
import { sha256Digest, signByHand, type Alg } from '../../packages/resource-server/test/helpers/rfc9421.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import type { TestServer } from '../helpers/server.js';
import { partnerKey, secretClient, type KeyJson } from '../clients/client-key-helpers.js';

// What the tests of @tollgate/resource-server's signed requests against a real Tollgate share: a
// partner with a key of each algorithm registered through the admin API, and a signer that shares
// nothing with the library (packages/resource-server/test/helpers/rfc9421.ts writes the RFC 9421
// signature base out by hand).

/**
 * Environment for the Tollgate these tests start: test files share 127.0.0.1, and the refused
 * signatures they present must not trip the per-address limit on refused questions.
 */
export const SERVER_ENV = {
  API_KEY_VERIFICATION_FAILURE_LIMIT: '1000000/min',
  SIGNATURE_VERIFICATION_FAILURE_LIMIT: '1000000/min',
};

export const ALGS: Alg[] = ['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256'];

export interface SigningKey {
  keyid: string;
  alg: Alg;
  /** The private key, or the HMAC secret's UTF-8 bytes exactly as Tollgate showed it once. */
  private: crypto.KeyObject | Buffer;
}

export interface SignaturePartner {
  api: ApiFixture;
  clientId: string;
  keys: Record<Alg, SigningKey>;
}

/** Registers a key for the client: a public key (PEM) or an HMAC secret Tollgate generates. */
export async function addKey(server: TestServer, clientId: string, alg: Alg): Promise<SigningKey> {
  if (alg === 'hmac-sha256') {
    const response = await server.admin('post', `/clients/${clientId}/keys`, { hmac: true });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const body = response.body as KeyJson;
    return { keyid: body.keyid, alg, private: Buffer.from(body.secret!, 'utf8') };
  }
  const key = partnerKey(alg === 'ed25519' ? 'ed25519' : alg === 'ecdsa-p256-sha256' ? 'p256' : 'rsa');
  const response = await server.admin('post', `/clients/${clientId}/keys`, { public_key: key.pem });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const body = response.body as KeyJson;
  expect(body.alg).toBe(alg);
  return { keyid: body.keyid, alg, private: key.privateKey };
}

/** An API, and a client allowed its read scope only, with one key of each algorithm. */
export async function createSignaturePartner(server: TestServer): Promise<SignaturePartner> {
  const api = await createApi(server);
  const clientId = await secretClient(server, [api.scopes[0]!]);
  const keys = {} as Record<Alg, SigningKey>;
  for (const alg of ALGS) keys[alg] = await addKey(server, clientId, alg);
  return { api, clientId, keys };
}

export interface SignedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

let counter = 0;

/**
 * Signs a request by hand per RFC 9421: `@method`, `@target-uri` and, with a body,
 * `content-digest` (RFC 9530 sha-256); `created` now, a fresh nonce, `keyid` and `alg`.
 */
export function sign(
  key: SigningKey,
  request: { method: string; url: string; body?: string; headers?: Record<string, string> },
  options: { nonce?: string; created?: number } = {},
): SignedRequest {
  counter += 1;
  const nonce = options.nonce ?? `${crypto.randomBytes(12).toString('base64url')}-${counter}`;
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { ...request.headers };
  const components: Array<[string, string]> = [
    ['"@method"', request.method.toUpperCase()],
    ['"@target-uri"', request.url],
  ];
  if (request.body !== undefined) {
    headers['content-digest'] = sha256Digest(request.body);
    components.push(['"content-digest"', headers['content-digest']]);
  }
  const signed = signByHand(
    key.alg,
    key.private,
    components,
    `;created=${created};keyid="${key.keyid}";alg="${key.alg}";nonce="${nonce}"`,
  );
  return {
    method: request.method,
    url: request.url,
    headers: { ...headers, ...signed.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}

export interface Refusal {
  status: number;
  code: string | undefined;
  description: string;
  wwwAuthenticate: string | undefined;
  acceptSignature: string | undefined;
}

/** The ResourceServerError `verifyRequest` rejects with, as plain fields; fails the test if it resolves. */
export async function refusal(
  verifier: Verifier,
  request: SignedRequest,
  options: VerifyRequestOptions = { schemes: ['signature'] },
): Promise<Refusal> {
  const error = await verifier.verifyRequest(request, options).then(
    (caller) => expect.unreachable(`accepted: ${JSON.stringify(caller)}`),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ResourceServerError);
  const { status, code, description, wwwAuthenticate } = error as ResourceServerError;
  const acceptSignature = (error as { acceptSignature?: string }).acceptSignature;
  return { status, code, description, wwwAuthenticate, acceptSignature };
}
