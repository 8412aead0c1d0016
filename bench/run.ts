/**
 * npm run bench [-- --duration 10 --warmup 3 --rounds 2 --connections 16 --profile --quick --only cc,fetch,…]
 *
 * Tollgate side by side with the libraries it should sit next to, in one run, one configuration:
 *
 * - servers: Tollgate on PostgreSQL (a fresh database, dropped afterwards), Tollgate on the
 *   embedded PGlite, a second Tollgate on the same PostgreSQL with LOG_LEVEL=info (the others run
 *   at warn), raw oidc-provider with its in-memory adapter (bench/anchors/oidc-provider.ts; with
 *   Tollgate's patches/ like Tollgate, and for ES256 client credentials also as published) and
 *   @node-oauth/oauth2-server issuing the same JWTs (bench/anchors/oauth2-server.ts);
 * - every server on CPU 0 (taskset), the load generator (wrk, or bench/oauth-driver.ts for the
 *   user-facing grants) and this script on CPU 1; 127.0.0.1 only; bounded runs;
 * - before a server is loaded, one token from it is verified against its JWKS (jose);
 * - sections (--only): verify (resource-server verification, bench/verify.ts), cc (client
 *   credentials ES256 in --rounds alternating rounds, RS256, EdDSA, then short Tollgate/raw
 *   pairs for the ratio), fetch (JWKS, discovery),
 *   grants (sign-in through the pages, code exchange latency, refresh with rotation), apikeys
 *   (POST /api-keys/verify with a valid and a refused key, beside the same Tollgate's client
 *   credentials and JWKS; bench/api-keys.ts), signatures (issue 18: the library's local Ed25519
 *   verification against crypto.verify, bench/verify-signature.ts; HMAC verification through
 *   Tollgate at 1 and --connections connections, bench/signatures.ts and bench/signature-driver.ts), startup
 *   (`npm start` → /readyz on a warm embedded database; idle RSS on restart, and on a first start once settled), profile (with
 *   --profile: `node --cpu-prof` of Tollgate and raw oidc-provider under the same load);
 * - besides throughput and latency, each run records the server's own CPU time (/proc), so
 *   "tokens per CPU-second" stays comparable when something else on the machine takes CPU 0,
 *   and how much of CPU 0 something else took.
 *
 * Prints the report and writes it to bench/results/latest.md (the README quotes it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { apiKeyReport, issueBenchKeys, runApiKeys, verificationRequest, type ApiKeyResults } from './api-keys.ts';
import { runInProcess, runSignatures, signatureReport, type SignatureResults } from './signatures.ts';
import {
  ADMIN_TOKEN,
  admin,
  coreTime,
  CpuMeter,
  type CpuUse,
  databaseCounters,
  fail,
  fmt,
  freePort,
  KEK,
  LOAD_CPU,
  load as harnessLoad,
  type LoadRequest,
  type LoadResult,
  log,
  machineNote,
  median,
  memory,
  ms,
  NODE_START,
  others,
  pct,
  psqlTool as harnessPsqlTool,
  quartiles as quartileRange,
  quiet,
  ratio,
  ROOT,
  type Server,
  SERVER_CPU,
  signingFloor,
  sleep,
  spawnPinned,
  startTollgate,
  stop,
  table,
  TOLLGATE_NODE_ARGS,
  tollgateEnv,
  waitFor,
  waitQuiet,
} from './harness.ts';

const SECTIONS = ['verify', 'cc', 'fetch', 'grants', 'apikeys', 'signatures', 'startup', 'profile'] as const;
type Section = (typeof SECTIONS)[number];
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '16' },
    iterations: { type: 'string' },
    codes: { type: 'string' },
    families: { type: 'string', default: '16' },
    profile: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/latest.md') },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
const bounded = (raw: string | undefined, fallback: number, min: number, max: number) =>
  Math.round(Math.min(max, Math.max(min, Number(raw ?? fallback) || fallback)));
const DURATION = bounded(args.duration, args.quick ? 3 : 10, 1, 60);
const WARMUP = bounded(args.warmup, args.quick ? 2 : 3, 0, 30);
const ROUNDS = bounded(args.rounds, args.quick ? 1 : 2, 1, 5);
const SHORT = Math.max(1, Math.round(DURATION / 2));
/** Short alternating Tollgate/raw pairs for the client-credentials ratio (see where they run). */
const PAIRS = args.quick ? 3 : 8;
const PAIR_SECONDS = Math.max(1, Math.round(DURATION / 3));
const CONNECTIONS = bounded(args.connections, 16, 1, 256);
const ITERATIONS = bounded(args.iterations, args.quick ? 3000 : 10000, 1000, 200000);
const CODES = bounded(args.codes, args.quick ? 30 : 200, 1, 2000);
const FAMILIES = bounded(args.families, 16, 1, 256);
const only = new Set((args.only?.split(',') ?? SECTIONS.filter((s) => s !== 'profile' || args.profile)) as Section[]);
for (const section of only)
  if (!SECTIONS.includes(section)) throw new Error(`--only: unknown section "${section}" (${SECTIONS.join(', ')})`);
const ALGS = ['ES256', 'RS256', 'EdDSA'] as const;
type Alg = (typeof ALGS)[number];
const APIS = ALGS.map((alg) => ({
  alg,
  identifier: `https://${alg.toLowerCase()}.bench.example`,
  scope: `${alg.toLowerCase()}:read`,
}));
const apiFor = (alg: Alg) => APIS.find((api) => api.alg === alg)!;
const REDIRECT_URI = 'https://app.example.com/cb';
/** The apikeys section's Tollgate: out of reach of a run (the default, 300/min, would turn its refusals into 429s). */
const API_KEY_FAILURE_LIMIT = '9999999/min';
/** The signatures section's Tollgate, likewise (SIGNATURE_VERIFICATION_FAILURE_LIMIT). */
const SIGNATURE_FAILURE_LIMIT = '9999999/min';

// ---------------------------------------------------------------------------------------------
// servers

const FIRST_START_SETTLE_S = 30;

/** The APIs (one per algorithm), a client_credentials client, a user and a web client. */
async function setUpTollgate(server: Server): Promise<void> {
  for (const api of APIS)
    await admin(server, 'POST', '/apis', {
      identifier: api.identifier,
      name: `${api.alg} API`,
      scopes: [api.scope],
      alg: api.alg,
    });
  const service = await admin(server, 'POST', '/clients', {
    name: 'bench-service',
    grant_types: ['client_credentials'],
    scopes: APIS.map((api) => api.scope),
  });
  server.clientId = String(service.client_id);
  server.clientSecret = String(service.client_secret);
  const password = `bench ${randomBytes(12).toString('base64url')}`;
  await admin(server, 'POST', '/users', { username: 'bench-user', password });
  const web = await admin(server, 'POST', '/clients', {
    name: 'Bench Web',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    scopes: ['openid', 'offline_access', apiFor('ES256').scope],
  });
  Object.assign(server.tollgate!, {
    webClientId: String(web.client_id),
    webClientSecret: String(web.client_secret),
    username: 'bench-user',
    password,
  });
}

/** Another Tollgate on the same database uses the first one's clients and user. */
function shareSetUp(server: Server, from: Server): void {
  Object.assign(server, { clientId: from.clientId, clientSecret: from.clientSecret });
  server.tollgate = { ...from.tollgate!, adminUrl: server.tollgate!.adminUrl };
}

async function startAnchor(
  label: string,
  script: string,
  tmp: string,
  credentials: { id: string; secret: string },
  discovery: boolean,
  nodeArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PORT: String(port),
    BENCH_CLIENT_ID: credentials.id,
    BENCH_CLIENT_SECRET: credentials.secret,
    BENCH_APIS: JSON.stringify(APIS),
  };
  const running = spawnPinned(
    label,
    SERVER_CPU,
    process.execPath,
    [...nodeArgs, script],
    env,
    path.join(tmp, `${label.replace(/\W+/g, '-')}.log`),
  );
  await waitFor(running, `${issuer}/jwks`);
  return {
    label,
    running,
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    ...(discovery ? { discoveryUrl: `${issuer}/.well-known/openid-configuration` } : {}),
    clientId: credentials.id,
    clientSecret: credentials.secret,
  };
}

/**
 * The raw anchor as oidc-provider is published, without Tollgate's patches/oidc-provider+*.patch
 * (which the project's node_modules carry, so the plain raw anchor runs with them): a copy of the
 * package with the patches reversed, beside links to every other installed package, and a copy
 * of the anchor script that imports it. Undefined when there is no patch to reverse.
 */
function publishedOidcProviderAnchor(tmp: string): string | undefined {
  const dir = path.join(ROOT, 'patches');
  const patches = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith('oidc-provider+')) : [];
  if (!patches.length) return undefined;
  const home = path.join(tmp, 'oidc-provider-as-published');
  const modules = path.join(home, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name !== 'oidc-provider') fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  const copy = path.join(modules, 'oidc-provider');
  fs.cpSync(path.join(ROOT, 'node_modules/oidc-provider'), copy, { recursive: true });
  for (const patch of patches) {
    // The patch's paths are a/node_modules/oidc-provider/…: strip three levels inside the copy.
    const reversed = spawnSync('git', ['apply', '--reverse', '-p3', path.join(dir, patch)], {
      cwd: copy,
      encoding: 'utf8',
    });
    if (reversed.status !== 0)
      fail(`could not reverse patches/${patch} in a copy of oidc-provider: ${reversed.stderr}`);
  }
  const script = path.join(home, 'anchor.ts');
  fs.copyFileSync(path.join(ROOT, 'bench/anchors/oidc-provider.ts'), script);
  return script;
}

const basicAuth = (server: Server) =>
  `Basic ${Buffer.from(`${encodeURIComponent(server.clientId)}:${encodeURIComponent(server.clientSecret)}`).toString('base64')}`;
const ccBody = (alg: Alg) =>
  new URLSearchParams({
    grant_type: 'client_credentials',
    scope: apiFor(alg).scope,
    resource: apiFor(alg).identifier,
  }).toString();

/** One token, verified against the server's JWKS, before the server is loaded. */
async function verifyOneToken(server: Server, alg: Alg): Promise<void> {
  const response = await fetch(server.tokenUrl, {
    method: 'POST',
    headers: { authorization: basicAuth(server), 'content-type': 'application/x-www-form-urlencoded' },
    body: ccBody(alg),
  });
  const text = await response.text();
  if (response.status !== 200) fail(`${server.label} ${alg}: token request answered ${response.status}: ${text}`);
  const { access_token: token } = JSON.parse(text) as { access_token: string };
  const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(server.jwksUri)), {
    issuer: server.issuer,
    audience: apiFor(alg).identifier,
    typ: 'at+jwt',
    algorithms: [alg],
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
  });
  if (payload.client_id !== server.clientId || payload.scope !== apiFor(alg).scope || !protectedHeader.kid)
    fail(`${server.label} ${alg}: unexpected token ${JSON.stringify(payload)}`);
}

// ---------------------------------------------------------------------------------------------
// load

/** A wrk run at this run's connections, warm-up and duration unless the call says otherwise. */
const load = (
  tmp: string,
  server: Server,
  url: string,
  options: LoadRequest & { duration?: number; warmup?: number; connections?: number },
): Promise<LoadResult> =>
  harnessLoad(tmp, server, url, { connections: CONNECTIONS, warmup: WARMUP, duration: DURATION, ...options });

const ccLoad = (tmp: string, server: Server, alg: Alg, duration?: number, warmup = Math.min(WARMUP, 2)) =>
  load(tmp, server, server.tokenUrl, {
    method: 'POST',
    body: ccBody(alg),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth(server) },
    ...(duration ? { duration, warmup } : {}),
  });

interface Stats {
  count: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}
interface DriverResult {
  sign_in_ms: number;
  authorize: Stats;
  exchange: Stats;
  refresh: Stats & {
    ok: number;
    non2xx: number;
    failures: number;
    statuses: Record<string, number>;
    seconds: number;
    per_second: number;
    families: number;
  };
  cpu?: CpuUse;
  startedAt?: number;
  endedAt?: number;
}

/** bench/oauth-driver.ts on the load CPU; the server's CPU is metered over the refresh phase (it says when, over IPC). */
async function runDriver(
  server: Server,
  tmp: string,
  options: { codes: number; duration: number; warmup: number },
): Promise<DriverResult> {
  const t = server.tollgate;
  const config = {
    issuer: server.issuer,
    redirectUri: REDIRECT_URI,
    scope: `openid offline_access ${apiFor('ES256').scope}`,
    audience: apiFor('ES256').identifier,
    codeCount: options.codes,
    families: FAMILIES,
    warmupSeconds: options.warmup,
    durationSeconds: options.duration,
    ...(t
      ? { clientId: t.webClientId, clientSecret: t.webClientSecret, username: t.username, password: t.password }
      : // The raw oidc-provider anchor mints the families itself (no pages to sign in through).
        {
          clientId: `${server.clientId}-web`,
          clientSecret: server.clientSecret,
          refreshTokensUrl: `${server.issuer}/bench/refresh-tokens?n=${FAMILIES}`,
        }),
  };
  await waitQuiet();
  const logFile = path.join(tmp, `driver-${server.label.replace(/\W+/g, '-')}.log`);
  const running = spawnPinned(
    `driver for ${server.label}`,
    LOAD_CPU,
    process.execPath,
    ['bench/oauth-driver.ts'],
    { ...process.env, BENCH_DRIVER: JSON.stringify(config) },
    logFile,
    { ipc: true },
  );
  const meter = new CpuMeter(server.running.pid, server.databaseUrl);
  let metering: Promise<unknown> = Promise.resolve();
  let cpu: CpuUse | undefined;
  let startedAt: number | undefined;
  let endedAt: number | undefined;
  running.child.on('message', (message: { phase?: string }) => {
    const ack = () => {
      running.child.send({ ack: message.phase });
    };
    if (message.phase === 'refresh-start')
      metering = meter.start().then(() => {
        startedAt = Date.now();
        ack();
      });
    if (message.phase === 'refresh-end') {
      endedAt = Date.now();
      metering = metering
        .then(() => meter.stop())
        .then((use) => {
          cpu = use;
        });
      ack();
    }
  });
  const code = await running.exited;
  await metering;
  const output = fs.readFileSync(logFile, 'utf8');
  const line =
    /BENCH_JSON (.*)/.exec(output)?.[1] ??
    fail(`the OAuth driver for ${server.label} exited ${code}:\n${output.slice(-2000)}`);
  return {
    ...(JSON.parse(line) as DriverResult),
    ...(cpu ? { cpu } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database per run, and its write counters

const psqlTool = (tool: string, toolArgs: string[]) => harnessPsqlTool(args['postgres-url']!, tool, toolArgs);

// ---------------------------------------------------------------------------------------------
// the run

async function main(): Promise<void> {
  for (const tool of ['wrk', 'taskset', 'createdb', 'dropdb', 'getconf']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      fail(`${tool} is not installed (wrk: apt-get install wrk; taskset: util-linux; createdb: postgresql-client)`);
  }
  if (os.cpus().length < 2) fail('the benchmark needs two CPUs: servers on CPU 0, load on CPU 1');
  if (!fs.existsSync(path.join(ROOT, 'dist/src/main.js'))) fail('build first: npm run build');
  spawnSync('taskset', ['-cp', LOAD_CPU, String(process.pid)]);

  const startedAt = new Date();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-'));
  const dbName = `tg_bench_${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const databaseUrl = `${args['postgres-url']!.replace(/\/$/, '')}/${dbName}`;
  psqlTool('createdb', [dbName]);
  log(
    `PostgreSQL database ${dbName}, scratch ${tmp}; sections ${[...only].join(', ')}; ${DURATION} s runs after ${WARMUP} s warm-up, ${CONNECTIONS} connections, ${ROUNDS} ES256 round(s)`,
  );

  const servers: Server[] = [];
  const report: string[] = [];
  const print = (text: string) => {
    report.push(text);
    process.stdout.write(`${text}\n`);
  };
  const targets: [string, string, boolean][] = [];
  const loadAverage = () => os.loadavg()[0]!.toFixed(1);
  const loadAverages: string[] = [loadAverage()];
  try {
    const floor = signingFloor();
    const coreAtStart = coreTime(SERVER_CPU);
    log(`node:crypto ES256 sign alone on CPU ${SERVER_CPU}: ${fmt(floor)}/s`);

    // Resource-server verification first, on a quiet machine (one process, CPU 0).
    let verify:
      | {
          iterations: number;
          rows: Record<string, string | number>[];
          library: number;
          withHeader: number;
          apiKeyVsJwt: number;
          apiKeyQuestions: number;
        }
      | undefined;
    if (only.has('verify')) {
      log('resource-server verification (bench/verify.ts)');
      const verifyJson = path.join(tmp, 'verify.json');
      const verifyRun = spawnSync(
        'taskset',
        [
          '-c',
          SERVER_CPU,
          process.execPath,
          'bench/verify.ts',
          '--iterations',
          String(ITERATIONS),
          '--json',
          verifyJson,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      if (verifyRun.status !== 0) fail(`bench/verify.ts failed:\n${verifyRun.stderr}`);
      verify = JSON.parse(fs.readFileSync(verifyJson, 'utf8')) as typeof verify;
    }

    // The servers, all on CPU 0; each idle until its turn.
    const needServers =
      only.has('cc') || only.has('fetch') || only.has('grants') || only.has('startup') || only.has('profile');
    const anchorCredentials = { id: 'bench-client', secret: `tgs_${randomBytes(32).toString('base64url')}` };
    const liteDir = path.join(tmp, 'data-pglite');
    let raw: Server | undefined;
    let rawPublished: Server | undefined;
    let oauth2: Server | undefined;
    let tgPg: Server | undefined;
    let tgPgInfo: Server | undefined;
    let tgLite: Server | undefined;
    let tgKeys: Server | undefined;
    let tgSignatures: Server | undefined;
    let setupDoneAt = 0;
    if (needServers) {
      log('starting the anchors and Tollgate (PostgreSQL, PostgreSQL at LOG_LEVEL=info, PGlite)');
      raw = await startAnchor(
        'raw oidc-provider (in-memory)',
        'bench/anchors/oidc-provider.ts',
        tmp,
        anchorCredentials,
        true,
      );
      servers.push(raw);
      const publishedScript = only.has('cc') ? publishedOidcProviderAnchor(tmp) : undefined;
      if (publishedScript) {
        rawPublished = await startAnchor(
          'raw oidc-provider, as published',
          publishedScript,
          tmp,
          anchorCredentials,
          false,
        );
        servers.push(rawPublished);
      }
      oauth2 = await startAnchor(
        '@node-oauth/oauth2-server',
        'bench/anchors/oauth2-server.ts',
        tmp,
        anchorCredentials,
        false,
      );
      servers.push(oauth2);
      tgPg = await startTollgate('Tollgate (PostgreSQL)', {
        tmp,
        dataDir: path.join(tmp, 'data-pg'),
        databaseUrl,
        logLevel: 'warn',
      });
      servers.push(tgPg);
      tgPgInfo = await startTollgate('Tollgate (PostgreSQL, LOG_LEVEL=info)', {
        tmp,
        dataDir: path.join(tmp, 'data-pg-info'),
        databaseUrl,
        logLevel: 'info',
      });
      servers.push(tgPgInfo);
      tgLite = await startTollgate('Tollgate (PGlite)', { tmp, dataDir: liteDir, logLevel: 'warn' });
      servers.push(tgLite);
      await sleep(2000);
      for (const server of servers) server.idleRss = memory(server.running.pid).rss;
      await setUpTollgate(tgPg);
      await setUpTollgate(tgLite);
      shareSetUp(tgPgInfo, tgPg);
      setupDoneAt = Date.now();
      for (const server of servers) for (const alg of ALGS) await verifyOneToken(server, alg);
      log('one token from every server and algorithm verified against its JWKS');
    }

    // Client credentials. ES256 in alternating rounds (the best round of each server counts),
    // so a burst of load from elsewhere on the machine hits every server alike; then RS256, EdDSA.
    const cc = new Map<string, LoadResult[]>();
    const best = (key: string) => [...(cc.get(key) ?? [])].sort((a, b) => b.rps - a.rps)[0];
    let pgWrites: { writes: number; transactions: number; requests: number } | undefined;
    const pairs: { tollgate: LoadResult; raw: LoadResult }[] = [];
    if (only.has('cc')) {
      const ccServers = [raw!, oauth2!, tgPg!, tgLite!];
      // ES256 also runs the library as published (every round) and Tollgate at LOG_LEVEL=info (round 1).
      const es256Servers = (round: number) => [
        raw!,
        ...(rawPublished ? [rawPublished] : []),
        oauth2!,
        tgPg!,
        ...(round === 0 ? [tgPgInfo!] : []),
        tgLite!,
      ];
      for (const alg of ALGS) {
        for (let round = 0; round < (alg === 'ES256' ? ROUNDS : 1); round += 1) {
          for (const server of alg === 'ES256' ? es256Servers(round) : ccServers) {
            log(
              `client credentials ${alg}${alg === 'ES256' ? ` round ${round + 1}/${ROUNDS}` : ''}: ${server.label} (load average ${loadAverage()})`,
            );
            loadAverages.push(loadAverage());
            let before: { writes: number; transactions: number } | undefined;
            if (server === tgPg && alg === 'ES256' && round === 0) {
              // PostgreSQL reports a backend's counters up to 10 s late: let the setup's settle first.
              await sleep(Math.max(0, setupDoneAt + 11_000 - Date.now()));
              before = await databaseCounters(databaseUrl);
            }
            // ES256 is the headline: full length, in rounds; RS256 and EdDSA once, shorter.
            const result = alg === 'ES256' ? await ccLoad(tmp, server, alg) : await ccLoad(tmp, server, alg, SHORT);
            if (before) {
              await sleep(1500);
              const after = await databaseCounters(databaseUrl);
              pgWrites = {
                writes: after.writes - before.writes,
                transactions: after.transactions - before.transactions - 1,
                requests: result.requests,
              };
            }
            cc.set(`${alg}|${server.label}`, [...(cc.get(`${alg}|${server.label}`) ?? []), result]);
          }
        }
      }
      // Tollgate (PostgreSQL) against raw oidc-provider in short pairs, alternating which goes
      // first. The machine's speed swings between runs (two rounds of one server have differed by
      // half), and both halves of a pair see much the same swing: the median of the pairs' ratios
      // is the figure the 0.9x target is judged on.
      for (let pair = 0; pair < PAIRS; pair += 1) {
        const results: Partial<Record<'tollgate' | 'raw', LoadResult>> = {};
        for (const [key, server] of pair % 2
          ? ([
              ['tollgate', tgPg!],
              ['raw', raw!],
            ] as const)
          : ([
              ['raw', raw!],
              ['tollgate', tgPg!],
            ] as const)) {
          log(`client credentials ES256 pair ${pair + 1}/${PAIRS}: ${server.label}`);
          results[key] = await ccLoad(tmp, server, 'ES256', PAIR_SECONDS, 1);
        }
        pairs.push({ tollgate: results.tollgate!, raw: results.raw! });
      }
    }

    // JWKS and discovery.
    const fetches = new Map<string, LoadResult>();
    if (only.has('fetch')) {
      for (const server of [raw!, oauth2!, tgPg!, tgLite!]) {
        log(`JWKS: ${server.label}`);
        fetches.set(
          `jwks|${server.label}`,
          await load(tmp, server, server.jwksUri, { duration: SHORT, warmup: Math.min(WARMUP, 2) }),
        );
        if (server.discoveryUrl) {
          log(`discovery: ${server.label}`);
          fetches.set(
            `discovery|${server.label}`,
            await load(tmp, server, server.discoveryUrl, { duration: SHORT, warmup: Math.min(WARMUP, 2) }),
          );
        }
      }
    }
    for (const server of servers) server.peakTokenLoad = memory(server.running.pid).hwm;

    // Sign-in, code exchange and refresh with rotation (Tollgate only).
    // Refresh in alternating rounds like ES256 client credentials; the code exchanges are timed
    // in the first round only (later rounds mint just their token families).
    const drivers = new Map<string, DriverResult[]>();
    if (only.has('grants')) {
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const server of [raw!, tgPg!, tgLite!]) {
          const codes = round === 0 ? CODES : 0;
          log(
            `${server === raw ? 'refresh with rotation' : `sign-in, ${codes} code exchanges, refresh with rotation`}, round ${round + 1}: ${server.label} (load average ${loadAverage()})`,
          );
          loadAverages.push(loadAverage());
          drivers.set(server.label, [
            ...(drivers.get(server.label) ?? []),
            await runDriver(server, tmp, { codes, duration: DURATION, warmup: WARMUP }),
          ]);
        }
      }
    }
    /** A server's refresh rounds: the fastest, and the first (which timed the code exchanges). */
    const refreshRounds = (server: Server) => {
      const rounds = drivers.get(server.label)!;
      return {
        rounds,
        best: [...rounds].sort((a, b) => b.refresh.per_second - a.refresh.per_second)[0]!,
        first: rounds[0]!,
      };
    };
    for (const server of servers) server.peakOverall = memory(server.running.pid).hwm;
    for (const server of servers) await stop(server.running);

    // API-key verification (issue 17): a Tollgate of its own on the run's database, alone on
    // CPU 0, with the failure limit out of reach so that the refused-key rows measure refusals.
    let apiKeys: ApiKeyResults | undefined;
    if (only.has('apikeys')) {
      log('API-key verification: starting Tollgate (PostgreSQL) for it');
      tgKeys = await startTollgate('Tollgate (PostgreSQL, API keys)', {
        tmp,
        dataDir: path.join(tmp, 'data-pg-api-keys'),
        databaseUrl,
        logLevel: 'warn',
        env: { API_KEY_VERIFICATION_FAILURE_LIMIT: API_KEY_FAILURE_LIMIT },
      });
      servers.push(tgKeys);
      if (tgPg) shareSetUp(tgKeys, tgPg);
      else await setUpTollgate(tgKeys);
      await verifyOneToken(tgKeys, 'ES256');
      const keysServer = tgKeys;
      apiKeys = await runApiKeys(keysServer, apiFor('ES256'), {
        rounds: ROUNDS,
        connections: CONNECTIONS,
        databaseUrl,
        load: (url, options) => {
          loadAverages.push(loadAverage());
          return load(tmp, keysServer, url, options);
        },
        ccRequest: {
          method: 'POST',
          body: ccBody('ES256'),
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth(keysServer) },
        },
      });
      await stop(tgKeys.running);
    }

    // Signed requests (issue 18): the library's local verification in process, then HMAC
    // verification through a Tollgate of its own on the run's database, alone on CPU 0.
    let signatures: SignatureResults | undefined;
    if (only.has('signatures')) {
      const inProcess = runInProcess(tmp, ITERATIONS);
      log('signed requests: starting Tollgate (PostgreSQL) for them');
      tgSignatures = await startTollgate('Tollgate (PostgreSQL, signatures)', {
        tmp,
        dataDir: path.join(tmp, 'data-pg-signatures'),
        databaseUrl,
        logLevel: 'warn',
        env: { SIGNATURE_VERIFICATION_FAILURE_LIMIT: SIGNATURE_FAILURE_LIMIT },
      });
      servers.push(tgSignatures);
      if (tgPg) shareSetUp(tgSignatures, tgPg);
      else await setUpTollgate(tgSignatures);
      signatures = await runSignatures(tgSignatures, apiFor('ES256'), inProcess, {
        tmp,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        duration: DURATION,
        warmup: WARMUP,
      });
      await stop(tgSignatures.running);
    }

    // CPU profiles: Tollgate (PostgreSQL) and raw oidc-provider under the same client-credentials
    // load, and Tollgate under refresh; only the load window is summarised.
    const profiles: string[] = [];
    if (only.has('profile')) {
      const resultsDir = path.join(ROOT, 'bench/results');
      fs.mkdirSync(resultsDir, { recursive: true });
      const profileRun = async (
        label: string,
        start: (dir: string) => Promise<Server>,
        work: (server: Server) => Promise<{ requests: number; startedAt: number; endedAt: number }>,
      ) => {
        const dir = path.join(tmp, `profile-${label}`);
        const server = await start(dir);
        await verifyOneToken(server, 'ES256');
        const done = await work(server);
        const stoppedAt = Date.now();
        await stop(server.running);
        const file =
          fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile')) ?? fail(`no profile written in ${dir}`);
        const kept = path.join(resultsDir, `profile-${label}.cpuprofile`);
        fs.copyFileSync(path.join(dir, file), kept);
        // The window, in ms before the profile's end (the process ends right after SIGTERM).
        return {
          file: kept,
          requests: done.requests,
          window: `${stoppedAt - done.startedAt},${stoppedAt - done.endedAt}`,
        };
      };
      const prof = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      log('profiling raw oidc-provider under client credentials');
      const rawProfile = await profileRun(
        'raw-oidc-provider-client-credentials',
        (dir) =>
          startAnchor(
            'raw oidc-provider (profiled)',
            'bench/anchors/oidc-provider.ts',
            tmp,
            anchorCredentials,
            true,
            prof(dir),
          ),
        (server) => ccLoad(tmp, server, 'ES256'),
      );
      log('profiling Tollgate (PostgreSQL) under client credentials');
      const tgProfile = await profileRun(
        'tollgate-client-credentials',
        async (dir) => {
          const server = await startTollgate('Tollgate (PostgreSQL, profiled)', {
            tmp,
            dataDir: path.join(tmp, 'data-prof-cc'),
            databaseUrl,
            logLevel: 'warn',
            nodeArgs: prof(dir),
          });
          shareSetUp(server, tgPg!);
          return server;
        },
        (server) => ccLoad(tmp, server, 'ES256'),
      );
      log('profiling Tollgate (PostgreSQL) under refresh with rotation');
      const refreshProfile = await profileRun(
        'tollgate-refresh',
        async (dir) => {
          const server = await startTollgate('Tollgate (PostgreSQL, profiled refresh)', {
            tmp,
            dataDir: path.join(tmp, 'data-prof-refresh'),
            databaseUrl,
            logLevel: 'warn',
            nodeArgs: prof(dir),
          });
          shareSetUp(server, tgPg!);
          return server;
        },
        async (server) => {
          const d = await runDriver(server, tmp, { codes: 1, duration: DURATION, warmup: WARMUP });
          return { requests: d.refresh.ok + d.refresh.non2xx, startedAt: d.startedAt!, endedAt: d.endedAt! };
        },
      );
      log('profiling raw oidc-provider under refresh with rotation');
      const rawRefreshProfile = await profileRun(
        'raw-oidc-provider-refresh',
        (dir) =>
          startAnchor(
            'raw oidc-provider (profiled refresh)',
            'bench/anchors/oidc-provider.ts',
            tmp,
            anchorCredentials,
            true,
            prof(dir),
          ),
        async (server) => {
          const d = await runDriver(server, tmp, { codes: 1, duration: DURATION, warmup: WARMUP });
          return { requests: d.refresh.ok + d.refresh.non2xx, startedAt: d.startedAt!, endedAt: d.endedAt! };
        },
      );
      // API-key verification (with the apikeys section): Tollgate answering a valid key, beside its
      // client-credentials profile above, per request.
      let keyProfile: Awaited<ReturnType<typeof profileRun>> | undefined;
      if (only.has('apikeys')) {
        log('profiling Tollgate (PostgreSQL) under API-key verification');
        keyProfile = await profileRun(
          'tollgate-api-key-verification',
          async (dir) => {
            const server = await startTollgate('Tollgate (PostgreSQL, profiled API keys)', {
              tmp,
              dataDir: path.join(tmp, 'data-prof-api-keys'),
              databaseUrl,
              logLevel: 'warn',
              nodeArgs: prof(dir),
              env: { API_KEY_VERIFICATION_FAILURE_LIMIT: API_KEY_FAILURE_LIMIT },
            });
            shareSetUp(server, tgPg!);
            return server;
          },
          async (server) => {
            const keys = await issueBenchKeys(server, apiFor('ES256'));
            return load(tmp, server, keys.url, verificationRequest(keys.key, apiFor('ES256')));
          },
        );
      }
      const summary = (p: { file: string; requests: number; window: string }, extra: string[] = []) => {
        const result = spawnSync(
          process.execPath,
          [
            'bench/profile-summary.ts',
            p.file,
            '--requests',
            String(p.requests),
            '--window',
            p.window,
            '--top',
            '15',
            ...extra,
          ],
          { cwd: ROOT, encoding: 'utf8' },
        );
        return result.status === 0 ? result.stdout : `profile summary failed: ${result.stderr}`;
      };
      profiles.push(
        `### Client credentials, ES256: Tollgate (PostgreSQL) against raw oidc-provider (\`${path.relative(ROOT, tgProfile.file)}\`, \`${path.relative(ROOT, rawProfile.file)}\`)\n\n${summary(tgProfile, ['--compare', rawProfile.file, '--compare-requests', String(rawProfile.requests), '--compare-window', rawProfile.window, '--label', 'Tollgate', '--compare-label', 'raw oidc-provider'])}`,
        `### Refresh with rotation: Tollgate (PostgreSQL) against raw oidc-provider (\`${path.relative(ROOT, refreshProfile.file)}\`, \`${path.relative(ROOT, rawRefreshProfile.file)}\`)\n\n${summary(refreshProfile, ['--compare', rawRefreshProfile.file, '--compare-requests', String(rawRefreshProfile.requests), '--compare-window', rawRefreshProfile.window, '--label', 'Tollgate', '--compare-label', 'raw oidc-provider'])}`,
      );
      if (keyProfile)
        profiles.push(
          `### API-key verification (valid key, ${CONNECTIONS} connections) against client credentials, ES256: Tollgate (PostgreSQL) (\`${path.relative(ROOT, keyProfile.file)}\`, \`${path.relative(ROOT, tgProfile.file)}\`)\n\n${summary(keyProfile, ['--compare', tgProfile.file, '--compare-requests', String(tgProfile.requests), '--compare-window', tgProfile.window, '--label', 'API-key verification', '--compare-label', 'client-credentials token'])}`,
        );
    }

    // Start-up on a warm embedded database: `npm start` (builds if needed) and node alone; the
    // restart's idle RSS, on PGlite and on PostgreSQL.
    const startup: Record<string, number[]> = { 'npm start': [], [NODE_START]: [] };
    const restartRss: Record<string, number> = {};
    let firstStartSettledRss: number | undefined;
    if (only.has('startup')) {
      for (let i = 0; i < 3; i += 1) {
        for (const [label, command, commandArgs] of [
          ['npm start', 'npm', ['start', '--silent']],
          [NODE_START, process.execPath, [...TOLLGATE_NODE_ARGS, 'dist/src/main.js']],
        ] as const) {
          log(`start-up on the warm PGlite database: ${label} (${i + 1}/3)`);
          const port = await freePort();
          const env = tollgateEnv({
            PORT: String(port),
            ADMIN_PORT: String(await freePort()),
            DATA_DIR: liteDir,
            KEY_ENCRYPTION_KEY: KEK,
            ADMIN_TOKEN,
            LOG_LEVEL: 'warn',
          });
          const running = spawnPinned(
            label,
            SERVER_CPU,
            command,
            [...commandArgs],
            env,
            path.join(tmp, `startup-${i}.log`),
            { group: true },
          );
          startup[label]!.push(await waitFor(running, `http://127.0.0.1:${port}/readyz`, 30_000));
          if (label === NODE_START && i === 0) {
            await sleep(2000);
            restartRss['Tollgate (PGlite)'] = memory(running.pid).rss;
          }
          // npm start: the server is a grandchild (npm → sh → node); its own process group ends it.
          process.kill(-running.pid, 'SIGTERM');
          await stop(running);
          await sleep(300);
        }
      }
      // The first start on a new DATA_DIR runs initdb, whose memory is handed back over the
      // following seconds: its idle RSS once settled.
      log(`first start on a new PGlite database, idle RSS ${FIRST_START_SETTLE_S} s after /readyz`);
      {
        const port = await freePort();
        const env = tollgateEnv({
          PORT: String(port),
          ADMIN_PORT: String(await freePort()),
          DATA_DIR: path.join(tmp, 'data-pglite-first'),
          KEY_ENCRYPTION_KEY: KEK,
          ADMIN_TOKEN,
          LOG_LEVEL: 'warn',
        });
        const running = spawnPinned(
          'Tollgate first start',
          SERVER_CPU,
          process.execPath,
          [...TOLLGATE_NODE_ARGS, 'dist/src/main.js'],
          env,
          path.join(tmp, 'first-start-pglite.log'),
        );
        await waitFor(running, `http://127.0.0.1:${port}/readyz`, 60_000);
        await sleep(FIRST_START_SETTLE_S * 1000);
        firstStartSettledRss = memory(running.pid).rss;
        await stop(running);
      }
      log('restart on PostgreSQL, for its idle RSS');
      const port = await freePort();
      const env = tollgateEnv({
        PORT: String(port),
        ADMIN_PORT: String(await freePort()),
        DATA_DIR: path.join(tmp, 'data-pg-restart'),
        DATABASE_URL: databaseUrl,
        KEY_ENCRYPTION_KEY: KEK,
        ADMIN_TOKEN,
        LOG_LEVEL: 'warn',
      });
      const running = spawnPinned(
        'Tollgate restart',
        SERVER_CPU,
        process.execPath,
        [...TOLLGATE_NODE_ARGS, 'dist/src/main.js'],
        env,
        path.join(tmp, 'restart-pg.log'),
      );
      await waitFor(running, `http://127.0.0.1:${port}/readyz`, 30_000);
      await sleep(2000);
      restartRss['Tollgate (PostgreSQL)'] = memory(running.pid).rss;
      await stop(running);
    }

    // -----------------------------------------------------------------------------------------
    // the report
    // Calibrated again at the end, with the hypervisor's share of the whole run: a machine that
    // changed speed between the two is why runs of the same code differ.
    const floorAtEnd = signingFloor();
    const coreAtEnd = coreTime(SERVER_CPU);
    const stealOverRun = (coreAtEnd.steal - coreAtStart.steal) / Math.max(1e-9, coreAtEnd.total - coreAtStart.total);
    const finishedAt = new Date();
    const command = `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    print(`# Tollgate benchmark — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC\n`);
    print(`Command: \`${command}\` (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s).  `);
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'migrations', 'packages', 'views'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.trim();
    print(
      `Tollgate: commit ${commit || 'unknown'}${dirty ? ' with uncommitted changes under src/, migrations/, packages/ or views/' : ''}.  `,
    );
    print(`Machine: ${machineNote(args['postgres-url']!)}.  `);
    print(
      `Calibration: node:crypto alone signs ${fmt(floor)} ES256 signatures/s on CPU ${SERVER_CPU} of this machine at the start of the run and ${fmt(floorAtEnd)}/s at its end; the hypervisor took ${pct(stealOverRun)} of CPU ${SERVER_CPU} over the run (steal). The machine is shared: 1-minute load average ${Math.min(...loadAverages.map(Number)).toFixed(1)}–${Math.max(...loadAverages.map(Number)).toFixed(1)} during the run (the bench alone accounts for about 2), so every run also reports the server's own CPU time and how much of its CPU something else took, and each run first waited for the CPUs to be quiet (${(quiet.waitedMs / 1000).toFixed(0)} s waited over ${quiet.runs} runs; ${quiet.gaveUp} runs started without a quiet second, after 15 s or once the run's 120 s of waiting were spent).\n`,
    );
    print(
      `Servers pinned to CPU ${SERVER_CPU} (taskset), wrk (1 thread, ${CONNECTIONS} connections, HTTP/1.1 keep-alive) and the OAuth driver on CPU ${LOAD_CPU}; 127.0.0.1 only; ES256 client credentials and refresh ${DURATION} s after a ${WARMUP} s warm-up, RS256/EdDSA/JWKS/discovery ${SHORT} s after ${Math.min(WARMUP, 2)} s. Before any load, one token per server and algorithm was verified against that server's JWKS with jose. Tollgate runs with LOG_LEVEL=warn unless the row says otherwise.\n`,
    );

    if (only.has('cc')) {
      print(`## Client credentials (POST /token, client_secret_basic, \`resource\` + one scope → RFC 9068 JWT)\n`);
      print(
        `ES256: ${ROUNDS} alternating round(s) per server, the best counts (all rounds listed). "tokens/CPU-s" divides the tokens by the server process's own CPU time, so it holds when something else took part of CPU ${SERVER_CPU}; "others on CPU ${SERVER_CPU}" is that part, with the share the hypervisor took from this virtual machine (steal) in brackets.\n`,
      );
      if (rawPublished)
        print(
          `"raw oidc-provider" runs the library from the project's node_modules, so with Tollgate's patch (patches/, applied by \`npm install\`: \`ctx.oidc\` a plain property instead of a new getter closure per request, which kept every request alive through young-generation GCs); "raw oidc-provider, as published" runs a copy with the patch reversed.\n`,
        );
      const rows: (string | number)[][] = [];
      for (const alg of ALGS) {
        const rawBest = best(`${alg}|${raw!.label}`)!;
        const o2Best = best(`${alg}|${oauth2!.label}`)!;
        for (const server of alg === 'ES256'
          ? [raw!, ...(rawPublished ? [rawPublished] : []), oauth2!, tgPg!, tgLite!, tgPgInfo!]
          : [raw!, oauth2!, tgPg!, tgLite!]) {
          const all = cc.get(`${alg}|${server.label}`) ?? [];
          const r = best(`${alg}|${server.label}`);
          if (!r) continue;
          rows.push([
            alg,
            server.label,
            fmt(r.rps),
            all.length > 1 ? all.map((x) => fmt(x.rps)).join(' / ') : '',
            ms(r.p50),
            ms(r.p99),
            r.non2xx + r.socketErrors,
            fmt(r.perCpuSecond),
            others(r.cpu),
            ratio(r.rps, rawBest.rps),
            ratio(r.perCpuSecond, rawBest.perCpuSecond),
            ratio(r.rps, o2Best.rps),
          ]);
        }
      }
      print(
        table(
          [
            'alg',
            'server',
            'tokens/s',
            'rounds',
            'p50 ms',
            'p99 ms',
            'non-2xx + socket errors',
            'tokens/CPU-s',
            `others on CPU ${SERVER_CPU}`,
            'vs raw oidc-provider',
            'vs raw, per CPU-s',
            'vs oauth2-server',
          ],
          rows,
          '---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:',
        ),
      );
      if (pgWrites)
        print(
          `\nDatabase work during Tollgate (PostgreSQL)'s first ES256 run (${WARMUP} s warm-up + ${DURATION} s measured, ${fmt(pgWrites.requests)} tokens in the measured part alone): ${pgWrites.writes} rows written and ${pgWrites.transactions} transactions (the client and API caches' background refreshes) — ${(pgWrites.writes / pgWrites.requests).toFixed(4)} writes and ${(pgWrites.transactions / pgWrites.requests).toFixed(4)} queries per token.`,
        );
      const info = best(`ES256|${tgPgInfo!.label}`)!;
      const warn = cc.get(`ES256|${tgPg!.label}`)![0]!;
      print(
        `\nRequest logging: LOG_LEVEL=info (one JSON line per request, to a file) against LOG_LEVEL=warn, same database, one right after the other in round 1: ${fmt(info.rps)} vs ${fmt(warn.rps)} tokens/s (${((info.rps / warn.rps - 1) * 100).toFixed(1)} %), ${fmt(info.perCpuSecond)} vs ${fmt(warn.perCpuSecond)} tokens per CPU-second (${((info.perCpuSecond / warn.perCpuSecond - 1) * 100).toFixed(1)} %).\n`,
      );
      const pgEs = best(`ES256|${tgPg!.label}`)!;
      const rawEs = best(`ES256|${raw!.label}`)!;
      const pairRatios = pairs.map((p) => p.tollgate.rps / p.raw.rps);
      const pairCpuRatios = pairs.map((p) => p.tollgate.perCpuSecond / p.raw.perCpuSecond);
      const quartiles = (values: number[]) => {
        const [lower, upper] = quartileRange(values);
        return `${lower.toFixed(2)}–${upper.toFixed(2)}×`;
      };
      print(
        `Pairs: Tollgate (PostgreSQL) and raw oidc-provider, ES256, ${PAIRS} pairs of ${PAIR_SECONDS} s runs (1 s warm-up each), alternating which runs first. Tollgate/raw per pair, tokens/s: ${pairRatios.map((r) => r.toFixed(2)).join(', ')} — median ${median(pairRatios).toFixed(2)}× (quartiles ${quartiles(pairRatios)}); per CPU-second: median ${median(pairCpuRatios).toFixed(2)}× (quartiles ${quartiles(pairCpuRatios)}). Tollgate ran at ${fmt(median(pairs.map((p) => p.tollgate.rps)))} tokens/s and raw at ${fmt(median(pairs.map((p) => p.raw.rps)))} (medians).\n`,
      );
      targets.push(
        [
          'Client credentials on PostgreSQL ≥ 0.9× raw in-memory oidc-provider (ES256, median of paired runs)',
          `${median(pairRatios).toFixed(2)}× (quartiles ${quartiles(pairRatios)}; per CPU-second ${median(pairCpuRatios).toFixed(2)}×); best rounds ${(pgEs.rps / rawEs.rps).toFixed(2)}× (${fmt(pgEs.rps)} vs ${fmt(rawEs.rps)}/s)`,
          median(pairRatios) >= 0.9,
        ],
        [
          `p99 ≤ 20 ms at ${CONNECTIONS} connections (PostgreSQL, ES256)`,
          `${ms(pgEs.p99)} ms (raw oidc-provider: ${ms(rawEs.p99)} ms)`,
          pgEs.p99 <= 20,
        ],
        [
          'No database write per client-credentials token',
          pgWrites ? `${pgWrites.writes} rows written for > ${fmt(pgWrites.requests)} tokens` : 'n/a',
          !!pgWrites && pgWrites.writes === 0,
        ],
      );
    }

    if (only.has('fetch')) {
      print(`## JWKS and discovery (GET)\n`);
      const rows: (string | number)[][] = [];
      for (const endpoint of ['jwks', 'discovery']) {
        const rawResult = fetches.get(`${endpoint}|${raw!.label}`);
        for (const server of [raw!, oauth2!, tgPg!, tgLite!]) {
          const r = fetches.get(`${endpoint}|${server.label}`);
          if (r)
            rows.push([
              endpoint,
              server.label,
              fmt(r.rps),
              ms(r.p50),
              ms(r.p99),
              r.non2xx + r.socketErrors,
              fmt(r.perCpuSecond),
              others(r.cpu),
              ratio(r.rps, rawResult?.rps ?? NaN),
            ]);
        }
      }
      print(
        table(
          [
            'endpoint',
            'server',
            'req/s',
            'p50 ms',
            'p99 ms',
            'non-2xx + socket errors',
            'req/CPU-s',
            `others on CPU ${SERVER_CPU}`,
            'vs raw oidc-provider',
          ],
          rows,
          '---|---|---:|---:|---:|---:|---:|---:|---:',
        ),
      );
      print('');
    }

    if (only.has('grants')) {
      print(`## User grants (Tollgate): sign-in through the pages, code exchange, refresh with rotation\n`);
      print(
        `bench/oauth-driver.ts signs one person in through Tollgate's login and consent pages (scrypt password check), then makes ${CODES} authorization requests on that session (consent remembered: each returns a code at once) and exchanges each code (PKCE S256, scope \`openid offline_access es256:read\` → ID token, JWT access token, refresh token), one at a time, timed apart. Then ${FAMILIES} concurrent loops each rotate their own refresh-token family for ${DURATION} s after ${WARMUP} s warm-up; every answer's refresh token is the next request's (a loop whose family breaks stops, and counts as an error). Tollgate's families come from one session, so they share one grant. The raw oidc-provider row is the in-memory ceiling: the same client settings (ES256 ID token, rotation, JWT access token for the same API), its families minted in memory, rotated by the same driver.\n`,
      );
      print(
        `Refresh ran in ${ROUNDS} alternating round(s) per server; the fastest counts (all rounds listed), and the code exchanges were timed in the first.\n`,
      );
      const rawRefresh = refreshRounds(raw!).best;
      const perCpuSecond = (d: DriverResult) => (d.cpu ? d.refresh.ok / d.cpu.server : NaN);
      const rows = [raw!, tgPg!, tgLite!].map((server) => {
        const { rounds, best: d, first } = refreshRounds(server);
        const signedIn = server !== raw;
        const errors = rounds.reduce((sum, r) => sum + r.refresh.non2xx + r.refresh.failures, 0);
        return [
          server.label,
          fmt(d.refresh.per_second),
          rounds.map((r) => fmt(r.refresh.per_second)).join(' / '),
          ms(d.refresh.p50_ms),
          ms(d.refresh.p99_ms),
          errors,
          fmt(perCpuSecond(d)),
          ratio(d.refresh.per_second, rawRefresh.refresh.per_second),
          (perCpuSecond(d) / perCpuSecond(rawRefresh)).toFixed(2) + '×',
          d.cpu?.postgres !== undefined ? `${(d.cpu.postgres / d.refresh.seconds).toFixed(2)} CPUs` : 'in-process',
          d.cpu ? others(d.cpu) : 'n/a',
          signedIn ? ms(first.exchange.p50_ms) : '',
          signedIn ? ms(first.exchange.p99_ms) : '',
          signedIn ? ms(first.authorize.p50_ms) : '',
          signedIn ? ms(first.authorize.p99_ms) : '',
          signedIn ? fmt(first.sign_in_ms) : '',
        ];
      });
      print(
        table(
          [
            'server',
            'refreshes/s',
            'rounds',
            'p50 ms',
            'p99 ms',
            'errors',
            'refreshes/CPU-s',
            'vs raw oidc-provider',
            'vs raw, per CPU-s',
            'PostgreSQL backends',
            `others on CPU ${SERVER_CPU}`,
            'code exchange p50 ms',
            'p99 ms',
            'authorize → code p50 ms',
            'p99 ms',
            'first sign-in ms',
          ],
          rows,
        ),
      );
      print('');
      const pgRounds = refreshRounds(tgPg!);
      const refreshPg = pgRounds.best.refresh;
      const pgErrors = pgRounds.rounds.reduce((sum, r) => sum + r.refresh.non2xx + r.refresh.failures, 0);
      targets.push([
        'Refresh with rotation on PostgreSQL ≥ 1,000/s on one core',
        `${fmt(refreshPg.per_second)}/s, ${fmt(perCpuSecond(pgRounds.best))} per CPU-second, ${pgErrors} errors (raw in-memory oidc-provider: ${fmt(rawRefresh.refresh.per_second)}/s; ${(refreshPg.per_second / rawRefresh.refresh.per_second).toFixed(2)}× of it)`,
        refreshPg.per_second >= 1000 && pgErrors === 0,
      ]);
    }

    if (apiKeys)
      for (const line of apiKeyReport(
        apiKeys,
        { serverCpu: SERVER_CPU, duration: DURATION, warmup: WARMUP, failureLimit: API_KEY_FAILURE_LIMIT },
        targets,
      ))
        print(line);

    if (signatures)
      for (const line of signatureReport(
        signatures,
        { duration: DURATION, warmup: WARMUP, failureLimit: SIGNATURE_FAILURE_LIMIT },
        targets,
      ))
        print(line);

    if (needServers || only.has('startup')) {
      print(`## Memory and start-up\n`);
      const rows = servers
        .filter((s) => s !== tgPgInfo && s !== tgKeys && s !== tgSignatures)
        .map((s) => [
          s.label,
          fmt(s.idleRss ?? NaN),
          s === tgLite && firstStartSettledRss ? fmt(firstStartSettledRss) : 'n/a',
          fmt(restartRss[s.label] ?? NaN),
          fmt(s.peakTokenLoad ?? NaN),
          fmt(s.peakOverall ?? NaN),
        ]);
      print(
        table(
          [
            'server',
            'idle RSS, first start MiB',
            `first start, after ${FIRST_START_SETTLE_S} s MiB`,
            'idle RSS, restart MiB',
            'peak RSS, token load MiB',
            'peak RSS, incl. sign-in MiB',
          ],
          rows,
        ),
      );
      print(
        `\nIdle RSS is VmRSS 2 s after /readyz, before any request: on the first start (which creates the database: PGlite runs initdb) and on a restart on the existing database, both started as \`npm start\` starts the server (\`${NODE_START}\`). PGlite's initdb memory is handed back over the seconds after the first start; the column after it is a separate first start on a new data directory, measured ${FIRST_START_SETTLE_S} s after /readyz. Peaks are VmHWM after the client-credentials/JWKS/discovery runs and after the sign-in/refresh runs (one sign-in's scrypt, N=2^17, allocates 128 MiB).\n`,
      );
      if (only.has('startup')) {
        print(
          table(
            ['start-up on a warm PGlite database, to /readyz 200', 'runs ms', 'median ms'],
            Object.entries(startup).map(([label, values]) => [
              `\`${label}\``,
              values.map((v) => fmt(v)).join(', '),
              fmt(median(values)),
            ]),
          ),
        );
        print('');
      }
      const idlePg = Math.max(tgPg?.idleRss ?? 0, restartRss['Tollgate (PostgreSQL)'] ?? 0);
      const idleLite = Math.max(restartRss['Tollgate (PGlite)'] ?? 0, tgLite?.idleRss ?? 0);
      targets.push(
        [
          'Idle RSS ≤ 120 MB on PostgreSQL (first start and restart)',
          `${fmt(idlePg)} MiB = ${fmt(idlePg * 1.048576)} MB`,
          idlePg * 1.048576 <= 120,
        ],
        [
          'Idle RSS ≤ 200 MB on PGlite (first start, which runs initdb, and restart)',
          `${fmt(idleLite)} MiB = ${fmt(idleLite * 1.048576)} MB (first start ${fmt(tgLite?.idleRss ?? NaN)} MiB${firstStartSettledRss ? `, ${fmt(firstStartSettledRss)} MiB after ${FIRST_START_SETTLE_S} s` : ''}; restart ${fmt(restartRss['Tollgate (PGlite)'] ?? NaN)} MiB)`,
          idleLite * 1.048576 <= 200,
        ],
      );
      if (only.has('startup'))
        targets.push([
          '`npm start` → /readyz 200 ≤ 2 s on a warm embedded database',
          `${fmt(median(startup['npm start']!))} ms (median of 3; \`${NODE_START}\` alone ${fmt(median(startup[NODE_START]!))} ms)`,
          median(startup['npm start']!) <= 2000,
        ]);
    }

    if (verify) {
      print(
        `## Resource-server verification (bench/verify.ts: one ES256 token, one process, ${fmt(verify.iterations)} interleaved verifications per candidate)\n`,
      );
      print(
        table(
          ['candidate', 'µs/op (median)', 'ops/s', 'time vs jose jwtVerify (median)', '(mean)'],
          verify.rows.map((row) => [
            String(row.candidate),
            String(row['µs/op (median)']),
            fmt(Number(row['ops/s (median)'])),
            String(row['time vs jose (median)']),
            String(row['time vs jose (mean)']),
          ]),
        ),
      );
      print(
        `\njsonwebtoken cannot check \`typ\` or require claims, so it does less than the others; express-oauth2-jwt-bearer runs with \`strict: true\` (typ, iat, sub, client_id, jti).\n`,
      );
      const worst = Math.max(verify.library, verify.withHeader);
      targets.push([
        'Verification within 5 % of jose jwtVerify (ES256, local key set)',
        `${worst >= 1 ? '+' : ''}${((worst - 1) * 100).toFixed(1)} % (median)`,
        worst <= 1.05,
      ]);
      targets.push([
        'Cached API-key verification (verifyRequest, X-API-Key) ≤ 1.5× the library verifying a local JWT',
        `${verify.apiKeyVsJwt}× (median; ${fmt(verify.apiKeyQuestions)} questions to the issuer over the run: the 1 s answer cache)`,
        verify.apiKeyVsJwt <= 1.5,
      ]);
    }

    const loads = [...[...cc.values()].flat(), ...fetches.values()];
    if (loads.length)
      targets.push([
        'Every load run answered 2xx only',
        `${loads.reduce((n, r) => n + r.non2xx + r.socketErrors, 0)} non-2xx/socket errors in ${loads.length} runs`,
        loads.every((r) => r.non2xx + r.socketErrors === 0),
      ]);
    print(`## Targets\n`);
    print(
      table(
        ['target', 'measured', 'result'],
        targets.map(([name, value, ok]) => [name, value, ok ? 'pass' : '**MISS**']),
        '---|---:|---',
      ),
    );
    if (profiles.length) {
      print(`\n## CPU profiles (\`node --cpu-prof\`, the ${DURATION} s load window only)\n`);
      print(profiles.join('\n'));
    }
    fs.mkdirSync(path.dirname(args.out!), { recursive: true });
    fs.writeFileSync(args.out!, `${report.join('\n')}\n`);
    log(`written to ${path.relative(process.cwd(), args.out!)}`);
  } finally {
    for (const server of servers) await stop(server.running).catch(() => undefined);
    await sleep(500);
    try {
      psqlTool('dropdb', ['--if-exists', dbName]);
    } catch (error) {
      log(`could not drop ${dbName}: ${(error as Error).message}`);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  const cause = (error as Error).cause;
  process.stderr.write(
    `bench: ${(error as Error).stack ?? String(error)}${cause ? `\ncause: ${String(cause)}` : ''}\n`,
  );
  process.exit(1);
});
