/**
 * Anchor: @node-oauth/oauth2-server on a bare node:http server, issuing the same RFC 9068 JWTs
 * (header typ at+jwt and kid; iss, sub, aud, exp, iat, jti, client_id, scope) by client
 * credentials. The model keeps the client in memory with a SHA-256 of its secret (as Tollgate
 * stores it) and signs with jose; a /jwks endpoint publishes the keys. Nothing is persisted.
 *
 *   PORT=4200 BENCH_CLIENT_ID=… BENCH_CLIENT_SECRET=… BENCH_APIS='[{"identifier","scope","alg"}]' node bench/anchors/oauth2-server.ts
 */
import { createHash, generateKeyPairSync, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import http from 'node:http';
import OAuth2Server from '@node-oauth/oauth2-server';
import { SignJWT, type JWK } from 'jose';

interface BenchApi {
  identifier: string;
  scope: string;
  alg: 'ES256' | 'RS256' | 'EdDSA';
}

const port = Number(process.env.PORT ?? 4200);
const issuer = `http://127.0.0.1:${port}`;
const apis = JSON.parse(process.env.BENCH_APIS ?? '[]') as BenchApi[];
const clientId = process.env.BENCH_CLIENT_ID ?? 'bench-client';
const secretHash = createHash('sha256')
  .update(process.env.BENCH_CLIENT_SECRET ?? 'bench-secret-bench-secret-bench-secret')
  .digest();
const TOKEN_TTL = 600;

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}
const keys = new Map<string, SigningKey>();
for (const alg of new Set(apis.map((api) => api.alg))) {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const kid = randomUUID();
  keys.set(alg, {
    kid,
    privateKey,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JWK,
  });
}
const jwksBody = JSON.stringify({ keys: [...keys.values()].map((key) => key.publicJwk) });
const apiByScope = new Map(apis.map((api) => [api.scope, api]));

type Client = { id: string; grants: string[]; accessTokenLifetime: number };
const client: Client = { id: clientId, grants: ['client_credentials'], accessTokenLifetime: TOKEN_TTL };

const model = {
  async getClient(id: string, secret: string | null) {
    if (id !== clientId || typeof secret !== 'string') return false;
    const presented = createHash('sha256').update(secret).digest();
    return timingSafeEqual(presented, secretHash) ? client : false;
  },
  async getUserFromClient(c: Client) {
    return { id: c.id };
  },
  async validateScope(_user: unknown, _client: Client, scope: string[] | undefined) {
    // One API per token, like the other servers: every requested scope must belong to it.
    if (!scope?.length) return false;
    const owners = new Set(scope.map((name) => apiByScope.get(name)));
    return owners.size === 1 && !owners.has(undefined) ? scope : false;
  },
  async generateAccessToken(c: Client, _user: unknown, scope: string[]) {
    const api = apiByScope.get(scope[0]!)!;
    const key = keys.get(api.alg)!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: c.id, scope: scope.join(' ') })
      .setProtectedHeader({ alg: api.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(c.id)
      .setAudience(api.identifier)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_TTL)
      .setJti(randomUUID())
      .sign(key.privateKey);
  },
  async saveToken(token: Record<string, unknown>, c: Client, user: unknown) {
    // JWTs are self-contained: nothing to store (the in-memory equivalent of "no write").
    return { ...token, client: c, user };
  },
};

const oauth = new OAuth2Server({
  model: model as never,
  accessTokenLifetime: TOKEN_TTL,
  allowExtendedTokenAttributes: false,
});

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function answer(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  try {
    if (request.method === 'GET' && request.url === '/jwks') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
      response.end(jwksBody);
      return;
    }
    if (request.method === 'POST' && request.url === '/token') {
      const body = Object.fromEntries(new URLSearchParams(await readBody(request)));
      const oauthRequest = new OAuth2Server.Request({
        headers: request.headers as Record<string, string>,
        method: request.method,
        query: {},
        body,
      });
      const oauthResponse = new OAuth2Server.Response({ headers: {} });
      try {
        await oauth.token(oauthRequest, oauthResponse);
      } catch (error) {
        const status = (error as { code?: number }).code ?? 500;
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(
          JSON.stringify({
            error: (error as { name?: string }).name ?? 'server_error',
            error_description: (error as Error).message,
          }),
        );
        return;
      }
      response.writeHead(oauthResponse.status ?? 200, {
        ...(oauthResponse.headers as Record<string, string>),
        'content-type': 'application/json',
      });
      response.end(JSON.stringify(oauthResponse.body));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"not_found"}');
  } catch {
    response.writeHead(500);
    response.end();
  }
}

// A failure after the answer has begun (a 500 after the headers went out) only ends that connection.
const server = http.createServer((request, response) => {
  answer(request, response).catch(() => response.destroy());
});
server.listen(port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
