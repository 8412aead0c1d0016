/**
 * Anchor: raw oidc-provider with its default in-memory adapter, issuing RFC 9068 JWT access
 * tokens by client credentials for the same APIs (audience, scope, algorithm) as Tollgate in the
 * benchmark. No persistence, no logging, no middleware of Tollgate's: the library's own cost.
 *
 * Also the in-memory ceiling for refresh with rotation: a second client (`<id>-web`, same secret,
 * authorization_code + refresh_token) and POST /bench/refresh-tokens?n=16, which mints n refresh
 * tokens (scope `openid offline_access` + the first API's scope, each with its own grant) as a
 * sign-in would, so bench/oauth-driver.ts can rotate them exactly as it does Tollgate's.
 *
 *   PORT=4100 BENCH_CLIENT_ID=… BENCH_CLIENT_SECRET=… BENCH_APIS='[{"identifier","scope","alg"}]' node bench/anchors/oidc-provider.ts
 *
 * Started by bench/run.ts (pinned to one core); prints "listening" once it accepts connections.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider, { errors, type Configuration } from 'oidc-provider';

interface BenchApi {
  identifier: string;
  scope: string;
  alg: 'ES256' | 'RS256' | 'EdDSA';
}

const port = Number(process.env.PORT ?? 4100);
const issuer = `http://127.0.0.1:${port}`;
const apis = JSON.parse(process.env.BENCH_APIS ?? '[]') as BenchApi[];
const clientId = process.env.BENCH_CLIENT_ID ?? 'bench-client';
const clientSecret = process.env.BENCH_CLIENT_SECRET ?? 'bench-secret-bench-secret-bench-secret';

function privateJwk(alg: BenchApi['alg']): Record<string, unknown> {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

const byIdentifier = new Map(apis.map((api) => [api.identifier, api]));
const algs = [...new Set(apis.map((api) => api.alg))];

const webClientId = `${clientId}-web`;
const configuration: Configuration = {
  ttl: { ClientCredentials: 600, AccessToken: 600, RefreshToken: 14 * 86_400, Grant: 14 * 86_400, IdToken: 3600 },
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    },
    {
      client_id: webClientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://app.example.com/cb'],
      response_types: ['code'],
    },
  ],
  // As Tollgate: ES256 ID tokens, refresh tokens rotated on every use.
  clientDefaults: {
    id_token_signed_response_alg: 'ES256',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  rotateRefreshToken: true,
  scopes: ['openid', 'offline_access'],
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  jwks: { keys: algs.map(privateJwk) as NonNullable<Configuration['jwks']>['keys'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => apis[0]!.identifier,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        const api = byIdentifier.get(resource);
        if (!api) throw new errors.InvalidTarget();
        return {
          scope: api.scope,
          audience: api.identifier,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: api.alg } },
        };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);

/** n refresh tokens as a sign-in with consent would leave them: a grant each, scope, resource. */
async function mintRefreshTokens(n: number): Promise<string[]> {
  const api = apis[0]!;
  const client = await provider.Client.find(webClientId);
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const accountId = `user_bench${i}`;
    const grant = new provider.Grant({ accountId, clientId: webClientId });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(api.identifier, api.scope);
    const grantId = await grant.save();
    const now = Math.floor(Date.now() / 1000);
    const refreshToken = new provider.RefreshToken({
      accountId,
      client: client!,
      grantId,
      gty: 'authorization_code',
      iiat: now,
      authTime: now,
      scope: `openid offline_access ${api.scope}`,
      resource: api.identifier,
    } as never);
    tokens.push(await refreshToken.save());
  }
  return tokens;
}

const callback = provider.callback();
const server = http.createServer((request, response) => {
  if (request.method === 'POST' && request.url?.startsWith('/bench/refresh-tokens')) {
    const n = Math.min(256, Number(new URL(request.url, issuer).searchParams.get('n')) || 16);
    void mintRefreshTokens(n).then(
      (tokens) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ refresh_tokens: tokens }));
      },
      (error: Error) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: error.message }));
      },
    );
    return;
  }
  void callback(request, response);
});
server.listen(port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
