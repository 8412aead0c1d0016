import https from 'node:https';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import type { TestCertificate } from '../helpers/certificates.js';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';

export interface TlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface TlsRequestOptions {
  /** The CA the client trusts the server's certificate by. */
  ca: string;
  /** The client certificate presented in the handshake, if any. */
  cert?: TestCertificate | undefined;
  method?: 'GET' | 'POST';
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * One request over a new TLS connection (no agent, so no session resumed from another
 * certificate's handshake): node:https as a service would call Tollgate, `cert`/`key`/`ca`.
 */
export function tlsRequest(url: string, options: TlsRequestOptions): Promise<TlsResponse> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        ca: options.ca,
        ...(options.cert ? { cert: options.cert.certPem, key: options.cert.keyPem } : {}),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { text };
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Registers a client through the admin API; fails the test unless it is created. */
export async function createClient(
  server: TestServer,
  fields: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await server.admin('post', '/clients', {
    name: unique('mtls-'),
    grant_types: ['client_credentials'],
    ...fields,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as Record<string, unknown>;
}

export function expectInvalidClient(response: { status: number; body: unknown }): void {
  expect(response.status, JSON.stringify(response.body)).toBe(401);
  expect((response.body as { error?: string }).error).toBe('invalid_client');
}

/** The `cnf` of a JWT access token, decoded without verifying (the binding is what is checked). */
export function confirmationOf(accessToken: unknown): Record<string, unknown> | undefined {
  return decodeJwt(String(accessToken)).cnf as Record<string, unknown> | undefined;
}

/** The SPKI PEM public key of a test certificate's key pair (what `--public-key FILE` holds). */
export function publicKeyOf(certificate: TestCertificate): string {
  return certificate.x509.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
