import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KeyObject, randomUUID, sign } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

/** How the fake issuer answers: normally, with 503s, by resetting connections, or never. */
export type IssuerMode = 'up' | 'error' | 'reset' | 'hang';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TokenOptions {
  key?: SigningKey;
  /** Protected-header members to add or override (`undefined` removes one). */
  header?: Record<string, unknown>;
}

export const AUDIENCE = 'https://orders.example.com';

/**
 * A stand-in for Tollgate on 127.0.0.1 built with node:http: discovery, a JWKS it can rotate and
 * withdraw keys from, a switch to make it fail, and request counters. Tokens are signed with jose
 * like Tollgate signs them; nothing of jose is mocked.
 */
export class TestIssuer {
  readonly server = http.createServer((request, response) => this.#handle(request, response));
  readonly sockets = new Set<Socket>();
  readonly keys: SigningKey[] = [];
  readonly requests = { discovery: 0, jwks: 0 };
  mode: IssuerMode = 'up';
  /** The JWKS `Cache-Control` header; `undefined` sends none. */
  cacheControl: string | undefined = 'public, max-age=300';
  /** Overrides the issuer named in the discovery document (mix-up tests). */
  discoveryIssuer: string | undefined;
  /** Extra JWKS members, for hostile-set tests. */
  extraJwks: Record<string, unknown>[] = [];
  url = '';

  static async start(): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    issuer.server.on('connection', (socket) => {
      issuer.sockets.add(socket);
      socket.on('close', () => issuer.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
    await issuer.addKey('ES256');
    return issuer;
  }

  get issuer(): string {
    return this.url;
  }

  get jwksUri(): string {
    return `${this.url}/jwks`;
  }

  /** Generates and publishes a key; `publish: false` keeps it private (a forger's key). */
  async addKey(
    alg = 'ES256',
    options: { kid?: string; publish?: boolean; declareAlg?: boolean } = {},
  ): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = options.kid ?? randomUUID();
    const publicJwk: JWK = {
      ...(await exportJWK(publicKey)),
      kid,
      use: 'sig',
      ...(options.declareAlg === false ? {} : { alg }),
    };
    const key = { kid, alg, privateKey, publicJwk };
    if (options.publish !== false) this.keys.push(key);
    return key;
  }

  withdraw(kid: string): void {
    const index = this.keys.findIndex((key) => key.kid === kid);
    if (index >= 0) this.keys.splice(index, 1);
  }

  /** Claims like Tollgate's client-credentials tokens, overridable (`undefined` removes a claim). */
  claims(overrides: Record<string, unknown> = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'client_abc',
      aud: AUDIENCE,
      exp: now + 600,
      iat: now,
      jti: randomUUID(),
      client_id: 'client_abc',
      scope: 'orders:read orders:write',
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return claims;
  }

  async token(overrides: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header };
    for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
    return new SignJWT(this.claims(overrides)).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }

  /** A DPoP-bound token for `holder`'s key (cnf.jkt), as oidc-provider issues them. */
  async boundToken(holder: DPoPKey, overrides: Record<string, unknown> = {}): Promise<string> {
    return this.token({ cnf: { jkt: holder.jkt }, ...overrides });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = new URL(request.url ?? '/', this.url).pathname;
    if (path === '/.well-known/openid-configuration') this.requests.discovery += 1;
    if (path === '/jwks') this.requests.jwks += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'reset') {
      request.socket.destroy();
      return;
    }
    if (this.mode === 'error') {
      response.writeHead(503).end();
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          issuer: this.discoveryIssuer ?? this.issuer,
          jwks_uri: this.jwksUri,
          token_endpoint: `${this.url}/token`,
        }),
      );
    } else if (path === '/jwks') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.cacheControl !== undefined) headers['cache-control'] = this.cacheControl;
      response.writeHead(200, headers);
      response.end(JSON.stringify({ keys: [...this.keys.map((key) => key.publicJwk), ...this.extraJwks] }));
    } else {
      response.writeHead(404).end();
    }
  }
}

/** A client's DPoP key pair and the proofs it makes (RFC 9449 §4.2). */
export class DPoPKey {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly jkt: string,
    readonly alg: string,
  ) {}

  static async generate(alg = 'ES256'): Promise<DPoPKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    return new DPoPKey(privateKey, publicJwk, await calculateJwkThumbprint(publicJwk), alg);
  }

  async proof(
    method: string,
    url: string,
    accessToken: string | undefined,
    overrides: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const { hash } = await import('node:crypto');
    const claims: Record<string, unknown> = {
      jti: randomUUID(),
      htm: method,
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      ...(accessToken === undefined ? {} : { ath: hash('sha256', accessToken, 'base64url') }),
      ...overrides.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    const header = { typ: 'dpop+jwt', alg: this.alg, jwk: this.publicJwk, ...overrides.header };
    return new SignJWT(claims).setProtectedHeader(header).sign(this.privateKey);
  }
}

/** Builds a JWT by hand, for tokens jose refuses to sign (`alg: none`, …). */
export function unsignedJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

/** Signs an ES256 JWT with node:crypto, bypassing jose's own header checks (crit, …). */
export function signEs256Raw(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: CryptoKey,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: KeyObject.from(privateKey as never),
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}
