import crypto from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningAlgorithm } from '../lib/signing-algorithms.js';

export interface GeneratedKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateJwk: JWK;
}

function generatePair(alg: SigningAlgorithm): crypto.KeyPairKeyObjectResult {
  switch (alg) {
    case 'ES256':
      return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'RS256':
    case 'PS256':
      return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'EdDSA':
      return crypto.generateKeyPairSync('ed25519');
  }
}

/** A fresh signing key; its kid is the RFC 7638 thumbprint, so it is stable and collision-free. */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedKey> {
  const pair = generatePair(alg);
  const publicBase = pair.publicKey.export({ format: 'jwk' }) as JWK;
  const privateBase = pair.privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicBase, 'sha256');
  return {
    kid,
    alg,
    publicJwk: { ...publicBase, kid, alg, use: 'sig' },
    privateJwk: { ...privateBase, kid, alg, use: 'sig' },
  };
}
