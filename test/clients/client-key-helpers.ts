import crypto from 'node:crypto';
import { expect } from 'vitest';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';

/** What the client-key tests share: partners' key pairs made by Node's crypto, independently of Tollgate. */

export interface PartnerKey {
  /** Its RFC 9421 algorithm name, as Tollgate should answer it. */
  alg: 'ed25519' | 'ecdsa-p256-sha256' | 'rsa-pss-sha512';
  /** The JWS algorithm a private_key_jwt assertion is signed with. */
  jws: 'EdDSA' | 'ES256' | 'PS256' | 'RS256';
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  /** The public key as SPKI PEM. */
  pem: string;
  /** The public key as one JWK (text). */
  jwk: string;
}

export function partnerKey(kind: 'ed25519' | 'p256' | 'rsa', bits = 2048): PartnerKey {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? crypto.generateKeyPairSync('ed25519')
      : kind === 'p256'
        ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : crypto.generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    alg: kind === 'ed25519' ? 'ed25519' : kind === 'p256' ? 'ecdsa-p256-sha256' : 'rsa-pss-sha512',
    jws: kind === 'ed25519' ? 'EdDSA' : kind === 'p256' ? 'ES256' : 'PS256',
    privateKey,
    publicKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk: JSON.stringify(publicKey.export({ format: 'jwk' })),
  };
}

/** Keys Tollgate must refuse, with a word its message must hold. */
export function refusedKeys(): { what: string; text: string; says: RegExp }[] {
  const rsa1024 = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
  const p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const k256 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const ed = crypto.generateKeyPairSync('ed25519');
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return [
    { what: 'RSA 1024', text: rsa1024.publicKey.export({ type: 'spki', format: 'pem' }) as string, says: /2048/ },
    { what: 'P-384', text: p384.publicKey.export({ type: 'spki', format: 'pem' }) as string, says: /P-384/ },
    { what: 'secp256k1 (JWK)', text: JSON.stringify(k256.publicKey.export({ format: 'jwk' })), says: /secp256k1/ },
    {
      what: 'a private key (PEM)',
      text: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      says: /private key/,
    },
    {
      what: 'a private key (JWK)',
      text: JSON.stringify(p256.privateKey.export({ format: 'jwk' })),
      says: /private key/,
    },
    { what: 'garbage', text: 'not a key at all', says: /neither a PEM public key nor/ },
    { what: 'a JWK set', text: JSON.stringify({ keys: [ed.publicKey.export({ format: 'jwk' })] }), says: /one key/ },
  ];
}

export interface KeyJson {
  keyid: string;
  alg: string;
  thumbprint?: string;
  secret?: string;
  created_at: string;
}

/** A confidential client (client_secret_basic) with a client_credentials grant. */
export async function secretClient(server: TestServer, scopes: string[] = []): Promise<string> {
  const created = await server.admin('post', '/clients', {
    name: unique('partner-'),
    grant_types: ['client_credentials'],
    scopes,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (created.body as { client_id: string }).client_id;
}

/** A private_key_jwt client whose first key is `key`. */
export async function keyClient(
  server: TestServer,
  key: PartnerKey,
  scopes: string[],
  fields: Record<string, unknown> = {},
): Promise<{ clientId: string; keyid: string }> {
  const created = await server.admin('post', '/clients', {
    name: unique('jwt-partner-'),
    grant_types: ['client_credentials'],
    scopes,
    auth_method: 'private_key_jwt',
    public_key: key.pem,
    ...fields,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const clientId = (created.body as { client_id: string }).client_id;
  const keys = await server.admin('get', `/clients/${clientId}/keys`);
  return { clientId, keyid: (keys.body as KeyJson[])[0]!.keyid };
}
