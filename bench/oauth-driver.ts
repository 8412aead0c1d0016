/**
 * The HTTP script for the user-facing grants, run by bench/run.ts as its own process on the
 * load-generator core. Against a running Tollgate it:
 *
 * 1. signs a person in through the real pages: authorization request (PKCE S256) → login page
 *    (username, password, csrf) → consent page (Allow, csrf) → redirect URI with ?code=…;
 * 2. exchanges that code and verifies the access token against the JWKS (jose), so an error
 *    response is never benchmarked;
 * 3. authorization code exchange latency: N sequential authorization requests on the signed-in
 *    session (consent remembered, so straight back with a code) and their exchanges, timed apart;
 * 4. refresh-token grant with rotation under load: F concurrent loops, each holding its own
 *    token family (from step 3), for a warm-up and then a bounded measured time. Every refresh
 *    rotates the token, so each loop presents the token the previous answer gave it.
 *
 * With `refreshTokensUrl` (the raw oidc-provider anchor), steps 1–3 are skipped: the families
 * come from that URL (POST), minted by the anchor as a sign-in would have left them.
 *
 * Configuration is one JSON object in BENCH_DRIVER; the result is one line `BENCH_JSON {…}`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

interface DriverConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  redirectUri: string;
  scope: string;
  audience: string;
  codeCount: number;
  families: number;
  warmupSeconds: number;
  durationSeconds: number;
  refreshTokensUrl?: string;
}

const config = JSON.parse(process.env.BENCH_DRIVER ?? '{}') as DriverConfig;
const basic = `Basic ${Buffer.from(`${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(4, config.families) });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Cookies by name and path, sent where the path matches: enough for the interaction cookies. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) || '/';
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      const key = `${name}|${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

const fail = (message: string): never => {
  throw new Error(message);
};
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    mean_ms: sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1),
  };
};

const discovery = JSON.parse((await send('GET', `${config.issuer}/.well-known/openid-configuration`)).text) as Record<
  string,
  string
>;
const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri!));
const jar = new CookieJar();

/** GET with the jar, following redirects, until the redirect URI; answers the page that needs a person, or the code. */
async function follow(start: string): Promise<{ url: string; page?: string; code?: string }> {
  let url = start;
  for (let hops = 0; hops < 10; hops += 1) {
    const answer = await send('GET', url, { cookie: jar.header(url) });
    jar.store(answer.headers['set-cookie']);
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location) {
      const next = new URL(location, url).href;
      if (next.startsWith(config.redirectUri)) {
        const params = new URL(next).searchParams;
        return {
          url: next,
          code:
            params.get('code') ??
            fail(`redirected back without a code: ${params.get('error')} ${params.get('error_description')}`),
        };
      }
      url = next;
      continue;
    }
    if (answer.status !== 200) fail(`GET ${url} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
    return { url, page: answer.text };
  }
  return fail('too many redirects');
}

/** POSTs a page's form (with its csrf field) and follows on. */
async function submit(
  pageUrl: string,
  page: string,
  fields: Record<string, string>,
): Promise<{ url: string; page?: string; code?: string }> {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1] ?? fail(`no form on ${pageUrl}`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? fail(`no csrf field on ${pageUrl}`);
  const url = new URL(action.replace(/&amp;/g, '&'), pageUrl).href;
  const answer = await send(
    'POST',
    url,
    { cookie: jar.header(url), 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ ...fields, csrf }).toString(),
  );
  jar.store(answer.headers['set-cookie']);
  const location =
    answer.headers.location ??
    fail(`POST ${url} answered ${answer.status} without a redirect: ${answer.text.replace(/\s+/g, ' ').slice(0, 300)}`);
  return follow(new URL(location, url).href);
}

function authorizationUrl(): { url: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(discovery.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    response_type: 'code',
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier };
}

async function tokenRequest(params: Record<string, string>): Promise<Answer> {
  return send(
    'POST',
    discovery.token_endpoint!,
    { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams(params).toString(),
  );
}

async function exchange(code: string, verifier: string): Promise<{ access_token: string; refresh_token?: string }> {
  const answer = await tokenRequest({
    grant_type: 'authorization_code',
    code,
    redirect_uri: config.redirectUri,
    code_verifier: verifier,
  });
  if (answer.status !== 200) fail(`code exchange answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text) as { access_token: string; refresh_token?: string };
}

async function verifyAccessToken(token: string): Promise<void> {
  const { payload } = await jwtVerify(token, jwks, {
    issuer: config.issuer,
    audience: config.audience,
    typ: 'at+jwt',
    requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id', 'scope'],
  });
  if (payload.client_id !== config.clientId) fail('access token for another client');
}

const authorizeMs: number[] = [];
const exchangeMs: number[] = [];
const refreshTokens: string[] = [];
let signInMs = NaN;
if (config.refreshTokensUrl) {
  const minted = await send('POST', config.refreshTokensUrl, {}, '');
  if (minted.status !== 200) fail(`${config.refreshTokensUrl} answered ${minted.status}: ${minted.text}`);
  refreshTokens.push(...(JSON.parse(minted.text) as { refresh_tokens: string[] }).refresh_tokens);
} else {
  // 1. The person signs in and consents, through the pages.
  const signInStarted = performance.now();
  const first = authorizationUrl();
  let step = await follow(first.url);
  if (!step.page?.includes('name="password"')) fail(`expected the login page at ${step.url}`);
  step = await submit(step.url, step.page!, { username: config.username, password: config.password });
  if (step.page) {
    if (!step.page.includes('value="allow"'))
      fail(`expected the consent page at ${step.url}: ${step.page.slice(0, 300)}`);
    step = await submit(step.url, step.page, { decision: 'allow' });
  }
  signInMs = performance.now() - signInStarted;
  const firstTokens = await exchange(step.code ?? fail('no code after sign-in'), first.verifier);
  await verifyAccessToken(firstTokens.access_token);
  if (!firstTokens.refresh_token) fail('no refresh token (offline_access) from the code exchange');

  // 2. Code exchange latency on the signed-in session.
  for (let i = 0; i < config.codeCount; i += 1) {
    const { url, verifier } = authorizationUrl();
    let started = performance.now();
    const back = await follow(url);
    authorizeMs.push(performance.now() - started);
    if (!back.code) fail(`authorization request ${i} needed a person again (${back.url})`);
    started = performance.now();
    const tokens = await exchange(back.code!, verifier);
    exchangeMs.push(performance.now() - started);
    if (tokens.refresh_token) refreshTokens.push(tokens.refresh_token);
  }
  while (refreshTokens.length < config.families) {
    const { url, verifier } = authorizationUrl();
    const back = await follow(url);
    refreshTokens.push(
      (await exchange(back.code ?? fail('no code'), verifier)).refresh_token ?? fail('no refresh token'),
    );
  }
}

// 3. Refresh with rotation: one loop per family, each presenting the token its last answer gave.
const firstRefresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshTokens[0]! });
if (firstRefresh.status !== 200) fail(`refresh answered ${firstRefresh.status}: ${firstRefresh.text}`);
const refreshed = JSON.parse(firstRefresh.text) as { access_token: string; refresh_token?: string };
await verifyAccessToken(refreshed.access_token);
if (!refreshed.refresh_token || refreshed.refresh_token === refreshTokens[0]) fail('the refresh token was not rotated');
refreshTokens[0] = refreshed.refresh_token!;

let measuring = false;
let stopAt = Date.now() + config.warmupSeconds * 1000;
const latencies: number[] = [];
let ok = 0;
let non2xx = 0;
let failures = 0;
const statuses: Record<string, number> = {};
async function loop(family: number): Promise<void> {
  let token = refreshTokens[family]!;
  while (Date.now() < stopAt) {
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: token });
    } catch {
      if (measuring) failures += 1;
      return;
    }
    const elapsed = performance.now() - started;
    if (answer.status !== 200) {
      if (measuring) {
        non2xx += 1;
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      }
      return; // the family is gone (or broken): this loop stops, and the count shows it
    }
    token = (JSON.parse(answer.text) as { refresh_token: string }).refresh_token;
    refreshTokens[family] = token;
    if (measuring) {
      ok += 1;
      latencies.push(elapsed);
    }
  }
}
/** Tells bench/run.ts (over IPC, when it started this process) where the measured phase begins and ends. */
function phase(name: string): Promise<void> {
  if (!process.send) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    process.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    process.send!({ phase: name });
  });
}

const families = refreshTokens.slice(0, config.families).map((_, index) => index);
await Promise.all(families.map(loop)); // warm-up
await phase('refresh-start');
measuring = true;
const started = performance.now();
stopAt = Date.now() + config.durationSeconds * 1000;
await Promise.all(families.map(loop));
const seconds = (performance.now() - started) / 1000;
await phase('refresh-end');

const result = {
  sign_in_ms: signInMs,
  authorize: stats(authorizeMs),
  exchange: stats(exchangeMs),
  refresh: {
    ...stats(latencies),
    ok,
    non2xx,
    failures,
    statuses,
    seconds,
    per_second: ok / seconds,
    families: families.length,
  },
};
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
agent.destroy();
process.disconnect?.();
