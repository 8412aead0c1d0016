/**
 * npm run bench:overhead [-- --against fd913fe --pairs 10 --seconds 3 --warmup 1 --connections 16 --no-control --profile]
 *
 * What a change costs on the token path, judged back to back in one run rather than between two
 * runs of `npm run bench` (which differ by more than the few per cent in question on a shared
 * machine): Tollgate built from another commit (--against; by default fd913fe, the last commit
 * before metrics, audit and rate limits) against Tollgate from this checkout's dist/, in short
 * alternating wrk pairs of ES256 client-credentials tokens, each pair's ratio taken on its own.
 *
 * - the base is built in a temporary git worktree (node_modules linked to this checkout's),
 *   removed at the end, also when the run fails;
 * - each Tollgate has a database of its own: a fresh PostgreSQL database, created and dropped here,
 *   or an embedded one in its own DATA_DIR;
 * - rows: a control (the base against a second copy of itself on PostgreSQL: the method's own
 *   spread; --no-control leaves it out), PostgreSQL, embedded, and — when this checkout's admin API takes a client's
 *   `rate_limit` — the same two with the client rate-limited (a limit never reached) and
 *   PostgreSQL with REDIS_URL (when Redis answers on 127.0.0.1:6379); the base of a rate-limited
 *   row is the base build without a limit, so the ratio is what the limit costs on top;
 * - servers on CPU 0, wrk and this script on CPU 1 (taskset), as in bench/run.ts, whose harness
 *   this shares (bench/harness.ts);
 * - on PostgreSQL, rows written and transactions per token from pg_stat_user_tables and
 *   pg_stat_database, over all the row's runs, warm-ups included;
 * - with --profile, after the pairs: each build again on each store under `node --cpu-prof`, one
 *   after the other under the same load (PROFILE_SECONDS), and bench/profile-summary.ts's
 *   side-by-side tables of the load window (self time by area in µs per token, new against base;
 *   the new build's functions). The profiles are kept beside the report.
 *
 * Prints the report and writes it to bench/results/<date>-overhead.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  admin,
  databaseCounters,
  fail,
  fmt,
  LOAD_CPU,
  load,
  type LoadResult,
  log,
  machineNote,
  median,
  ms,
  pct,
  psqlTool,
  quartiles,
  quiet,
  ROOT,
  type Server,
  SERVER_CPU,
  sleep,
  startTollgate,
  stop,
  table,
} from './harness.ts';

const { values: args } = parseArgs({
  options: {
    against: { type: 'string', default: 'fd913fe' },
    pairs: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    control: { type: 'boolean', default: true },
    profile: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
/** A whole number within [min, max]; 0 is a value (--warmup 0), only what is not a number falls back. */
const bounded = (raw: string | undefined, fallback: number, min: number, max: number) => {
  const value = Number(raw ?? fallback);
  return Math.round(Math.min(max, Math.max(min, Number.isFinite(value) ? value : fallback)));
};
const PAIRS = bounded(args.pairs, 10, 2, 40);
const SECONDS = bounded(args.seconds, 3, 1, 30);
const WARMUP = bounded(args.warmup, 1, 0, 10);
const CONNECTIONS = bounded(args.connections, 16, 1, 256);
/** A profiled run is longer than a pair's: a profile samples every millisecond, and a few seconds are a few thousand tokens. */
const PROFILE_SECONDS = Math.max(10, SECONDS);
const POSTGRES_URL = args['postgres-url']!.replace(/\/$/, '');
/** A limit the load never reaches: the row measures what checking it costs, not what it refuses. */
const RATE_LIMIT = '1000000/s';
/** PostgreSQL reports a backend's counters up to 10 s late (pgstat's idle flush interval). */
const STATS_SETTLE_MS = 11_000;
const API = { identifier: 'https://es256.bench.example', scope: 'es256:read', alg: 'ES256' } as const;
const TOKEN_BODY = new URLSearchParams({
  grant_type: 'client_credentials',
  scope: API.scope,
  resource: API.identifier,
}).toString();

interface Credentials {
  id: string;
  secret: string;
}
/** One side of a pair: a server and the client whose tokens it issues. */
interface Side {
  server: Server;
  client: Credentials;
}
interface Row {
  name: string;
  base: Side;
  next: Side;
}
interface RowResult {
  row: Row;
  pairs: { base: LoadResult; next: LoadResult }[];
  /** Rows written and transactions per token on each side's database (PostgreSQL sides only). */
  writes: Partial<Record<'base' | 'next', { writes: number; transactions: number }>>;
}

const run = (command: string, commandArgs: string[], cwd: string) => {
  const result = spawnSync(command, commandArgs, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    fail(`${command} ${commandArgs.join(' ')} (in ${cwd}) failed:\n${result.stderr || result.error?.message}`);
  return result.stdout.trim();
};

/** The base: `ref` checked out in a temporary worktree and built as `npm run build` builds it. */
function buildBase(ref: string, dir: string): string {
  const commit = run('git', ['rev-parse', '--short', `${ref}^{commit}`], ROOT);
  log(`building ${ref} (${commit}) in ${dir}`);
  run('git', ['worktree', 'add', '--detach', dir, commit], ROOT);
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  run('npm', ['run', 'build', '--silent'], dir);
  return commit;
}

function removeWorktree(dir: string): void {
  const removed = spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, encoding: 'utf8' });
  if (removed.status !== 0) log(`could not remove the worktree ${dir}: ${removed.stderr.trim()}`);
  spawnSync('git', ['worktree', 'prune'], { cwd: ROOT });
}

function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function createClient(server: Server, extra: Record<string, unknown> = {}): Promise<Credentials> {
  const client = await admin(server, 'POST', '/clients', {
    name: 'bench-service',
    grant_types: ['client_credentials'],
    scopes: [API.scope],
    ...extra,
  });
  return { id: String(client.client_id), secret: String(client.client_secret) };
}

/** Whether the server's admin API takes a client's `rate_limit` (201), or refuses the field. */
async function takesRateLimit(server: Server): Promise<boolean> {
  const response = await fetch(`${server.tollgate!.adminUrl}/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.tollgate!.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'rate-limit probe',
      grant_types: ['client_credentials'],
      scopes: [API.scope],
      rate_limit: RATE_LIMIT,
    }),
  });
  await response.arrayBuffer();
  return response.status === 201;
}

const basicAuth = ({ id, secret }: Credentials) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function oneToken(side: Side): Promise<void> {
  const response = await fetch(side.server.tokenUrl, {
    method: 'POST',
    headers: { authorization: basicAuth(side.client), 'content-type': 'application/x-www-form-urlencoded' },
    body: TOKEN_BODY,
  });
  const text = await response.text();
  if (response.status !== 200) fail(`${side.server.label}: token request answered ${response.status}: ${text}`);
}

const tokenLoad = (tmp: string, side: Side, seconds = SECONDS) =>
  load(tmp, side.server, side.server.tokenUrl, {
    method: 'POST',
    body: TOKEN_BODY,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth(side.client) },
    duration: seconds,
    warmup: WARMUP,
    connections: CONNECTIONS,
  });

/** A profiled side's load and its profile: the file, the tokens of the load window, the window before the profile's end. */
interface Profiled {
  file: string;
  requests: number;
  window: string;
}

/** Loads a side started with --cpu-prof into `dir`, stops it (which writes the profile) and keeps the profile as `keep`. */
async function profiledRun(tmp: string, side: Side, dir: string, keep: string): Promise<Profiled> {
  const result = await tokenLoad(tmp, side, PROFILE_SECONDS);
  // A profile's times are on the monotonic clock every process on the machine shares (V8's
  // TimeTicks, Node's hrtime): the load's start and end on that clock place the window exactly,
  // however long the shutdown and the profile's writing take (counted back from the stop instead,
  // the window slid into the shutdown's work: pino's fsync at exit, the pool's close).
  const nowMs = Number(process.hrtime.bigint() / 1000n) / 1000;
  const wallMs = Date.now();
  const loadStartMs = nowMs - (wallMs - result.startedAt);
  const loadEndMs = nowMs - (wallMs - result.endedAt);
  await stop(side.server.running);
  const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile')) ?? fail(`no profile written in ${dir}`);
  fs.copyFileSync(path.join(dir, file), keep);
  const endMs = (JSON.parse(fs.readFileSync(keep, 'utf8')) as { endTime: number }).endTime / 1000;
  return {
    file: keep,
    requests: result.requests,
    // profile-summary's window: milliseconds before the profile's end.
    window: `${(endMs - loadStartMs).toFixed(0)},${(endMs - loadEndMs).toFixed(0)}`,
  };
}

/** bench/profile-summary.ts's tables: the new build's profile beside the base's, per token. */
function profileComparison(next: Profiled, base: Profiled): string {
  const result = spawnSync(
    process.execPath,
    [
      'bench/profile-summary.ts',
      next.file,
      '--requests',
      String(next.requests),
      '--window',
      next.window,
      '--top',
      '25',
      '--compare',
      base.file,
      '--compare-requests',
      String(base.requests),
      '--compare-window',
      base.window,
      '--label',
      'new',
      '--compare-label',
      'base',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return result.status === 0 ? result.stdout : `profile summary failed: ${result.stderr}`;
}

async function runRow(tmp: string, row: Row): Promise<RowResult> {
  const sides = { base: row.base, next: row.next };
  const counted = (Object.keys(sides) as ('base' | 'next')[]).filter((key) => sides[key].server.databaseUrl);
  const before = new Map<string, { writes: number; transactions: number }>();
  if (counted.length) {
    // Let the counters of the setup and of the previous row reach pg_stat first.
    await sleep(STATS_SETTLE_MS);
    for (const key of counted) before.set(key, await databaseCounters(sides[key].server.databaseUrl!));
  }
  const pairs: RowResult['pairs'] = [];
  for (let pair = 0; pair < PAIRS; pair += 1) {
    const results: Partial<Record<'base' | 'next', LoadResult>> = {};
    for (const key of pair % 2 ? (['next', 'base'] as const) : (['base', 'next'] as const)) {
      log(`${row.name}: pair ${pair + 1}/${PAIRS}, ${sides[key].server.label}`);
      results[key] = await tokenLoad(tmp, sides[key]);
    }
    pairs.push({ base: results.base!, next: results.next! });
  }
  const writes: RowResult['writes'] = {};
  if (counted.length) {
    await sleep(STATS_SETTLE_MS);
    for (const key of counted) {
      const after = await databaseCounters(sides[key].server.databaseUrl!);
      const tokens = pairs.reduce((sum, p) => sum + p[key].requests + p[key].warmupRequests, 0);
      // Not the server's: the CPU meter's query at the start and end of every run, and the
      // two queries of the first databaseCounters.
      const ours = 2 * PAIRS + 2;
      writes[key] = {
        writes: (after.writes - before.get(key)!.writes) / tokens,
        transactions: (after.transactions - before.get(key)!.transactions - ours) / tokens,
      };
    }
  }
  return { row, pairs, writes };
}

function report(results: RowResult[], header: string[]): string {
  const lines = [...header];
  const ratioCell = (values: number[]) => {
    const [lower, upper] = quartiles(values);
    return `${median(values).toFixed(3)}× (${lower.toFixed(3)}–${upper.toFixed(3)})`;
  };
  const perToken = (value: { writes: number; transactions: number } | undefined) =>
    value ? `${value.writes.toFixed(4)} / ${value.transactions.toFixed(4)}` : 'n/a (embedded)';
  const rows = results.map(({ row, pairs, writes }) => {
    const rps = pairs.map((p) => p.next.rps / p.base.rps);
    const perCpu = pairs.map((p) => p.next.perCpuSecond / p.base.perCpuSecond);
    const side = (key: 'base' | 'next') => pairs.map((p) => p[key]);
    const errors = pairs.reduce(
      (n, p) => n + p.base.non2xx + p.base.socketErrors + p.next.non2xx + p.next.socketErrors,
      0,
    );
    const [lower, upper] = quartiles(perCpu);
    const judged = `${median(perCpu) >= 0.97 ? 'within 3 %' : '**more than 3 %**'}${upper - lower > 0.06 ? '; inconclusive: quartiles wider than 6 %' : ''}`;
    return [
      row.name,
      ratioCell(rps),
      ratioCell(perCpu),
      `${fmt(median(side('base').map((r) => r.rps)))} → ${fmt(median(side('next').map((r) => r.rps)))}`,
      `${ms(median(side('base').map((r) => r.p50)))} → ${ms(median(side('next').map((r) => r.p50)))}`,
      `${ms(median(side('base').map((r) => r.p99)))} → ${ms(median(side('next').map((r) => r.p99)))}`,
      perToken(writes.base),
      perToken(writes.next),
      pct(median([...side('base'), ...side('next')].map((r) => r.cpu.othersOnServerCpu))),
      errors,
      judged,
    ];
  });
  lines.push(
    table(
      [
        'configuration',
        'new/base tokens/s, median (quartiles)',
        'new/base tokens per CPU-s',
        'tokens/s base → new',
        'p50 ms',
        'p99 ms',
        'base: writes / transactions per token',
        'new: writes / transactions per token',
        `others on CPU ${SERVER_CPU}`,
        'non-2xx + socket errors',
        'judged',
      ],
      rows,
      '---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---',
    ),
  );
  lines.push(
    '',
    `Each ratio is the median over the ${PAIRS} pairs of new/base within a pair (quartiles in brackets); tokens/s, p50 and p99 are each side's medians. "Per CPU-s" divides tokens by the server process's own CPU time (/proc), so it holds when something else takes part of CPU ${SERVER_CPU}. "Judged" is "within 3 %" when the median per CPU-second is at least 0.97× (tokens/s moves with whatever else runs on CPU ${SERVER_CPU}; the server's own CPU time per token does much less), and inconclusive when that ratio's quartiles are further apart than the budget is wide. Writes are rows inserted, updated or deleted in the side's database (pg_stat_user_tables) and transactions those of pg_stat_database, less the bench's own queries, per token issued over the row's runs, warm-ups included; the embedded database is inside the server process and has no such counters here.`,
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  for (const tool of ['wrk', 'taskset', 'createdb', 'dropdb', 'getconf', 'git', 'npm']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is not installed`);
  }
  if (os.cpus().length < 2) fail('the benchmark needs two CPUs: servers on CPU 0, load on CPU 1');
  if (!fs.existsSync(path.join(ROOT, 'dist/src/main.js'))) fail('build first: npm run build');
  spawnSync('taskset', ['-cp', LOAD_CPU, String(process.pid)]);

  const startedAt = new Date();
  const stamp = `${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-overhead-'));
  const baseDir = path.join(tmp, 'base');
  const databases: string[] = [];
  const servers: Server[] = [];
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const server of servers) await stop(server.running).catch(() => undefined);
    await sleep(500);
    for (const name of databases) {
      try {
        psqlTool(POSTGRES_URL, 'dropdb', ['--if-exists', name]);
      } catch (error) {
        log(`could not drop ${name}: ${(error as Error).message}`);
      }
    }
    if (fs.existsSync(baseDir)) removeWorktree(baseDir);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  // Interrupted (Ctrl-C, a timeout's SIGTERM): the servers, databases and worktree go all the same.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });

  try {
    const baseCommit = buildBase(args.against!, baseDir);
    const database = (role: string) => {
      const name = `tg_overhead_${stamp}_${role}`;
      psqlTool(POSTGRES_URL, 'createdb', [name]);
      databases.push(name);
      return `${POSTGRES_URL}/${name}`;
    };
    const start = async (
      label: string,
      root: string,
      store: { databaseUrl?: string; env?: Record<string, string>; nodeArgs?: string[] },
    ) => {
      const server = await startTollgate(label, {
        tmp,
        dataDir: path.join(tmp, `data-${label.replace(/\W+/g, '-')}`),
        logLevel: 'warn',
        ...(root === ROOT ? {} : { root }),
        ...store,
      });
      servers.push(server);
      await admin(server, 'POST', '/apis', {
        identifier: API.identifier,
        name: 'ES256 API',
        scopes: [API.scope],
        alg: API.alg,
      });
      return server;
    };
    log('starting Tollgate, base and new, on PostgreSQL and on the embedded database');
    const basePg = await start(`base ${baseCommit} (PostgreSQL)`, baseDir, { databaseUrl: database('base') });
    const newPg = await start('new (PostgreSQL)', ROOT, { databaseUrl: database('new') });
    const baseLite = await start(`base ${baseCommit} (embedded)`, baseDir, {});
    const newLite = await start('new (embedded)', ROOT, {});
    const side = async (server: Server, extra?: Record<string, unknown>): Promise<Side> => ({
      server,
      client: await createClient(server, extra),
    });
    const rows: Row[] = [];
    if (args.control) {
      // The method's own noise: the base against a second copy of itself, which should come out 1.00×.
      const secondBase = await start(`second base ${baseCommit} (PostgreSQL)`, baseDir, {
        databaseUrl: database('control'),
      });
      rows.push({
        name: '(0) control: base against base, PostgreSQL',
        base: await side(basePg),
        next: await side(secondBase),
      });
    }
    const onPostgres: Row = { name: '(a) PostgreSQL', base: await side(basePg), next: await side(newPg) };
    const embedded: Row = { name: '(b) embedded', base: await side(baseLite), next: await side(newLite) };
    rows.push(onPostgres, embedded);
    const limits = await takesRateLimit(newPg);
    const notes: string[] = [];
    if (limits) {
      const limited = { rate_limit: RATE_LIMIT };
      rows.push(
        {
          name: `(c) PostgreSQL, client limited to ${RATE_LIMIT}`,
          base: onPostgres.base,
          next: await side(newPg, limited),
        },
        {
          name: `(d) embedded, client limited to ${RATE_LIMIT}`,
          base: embedded.base,
          next: await side(newLite, limited),
        },
      );
      if (await redisAnswers(args['redis-url']!)) {
        const newRedis = await start('new (PostgreSQL, REDIS_URL)', ROOT, {
          databaseUrl: database('redis'),
          env: { REDIS_URL: args['redis-url']! },
        });
        rows.push({
          name: `(e) PostgreSQL + Redis, client limited to ${RATE_LIMIT}`,
          base: onPostgres.base,
          next: await side(newRedis, limited),
        });
      } else notes.push(`Row (e) left out: no Redis answered at ${args['redis-url']}.`);
    } else
      notes.push(
        `Rows (c)–(e) left out: this checkout's admin API refused a client's \`rate_limit\` (POST /clients did not answer 201).`,
      );
    for (const row of rows) for (const s of [row.base, row.next]) await oneToken(s);
    log(`${rows.length} configurations, ${PAIRS} pairs of ${SECONDS} s runs after ${WARMUP} s warm-up each`);

    const results: RowResult[] = [];
    for (const row of rows) results.push(await runRow(tmp, row));

    const out = args.out ?? path.join(ROOT, `bench/results/${startedAt.toISOString().slice(0, 10)}-overhead.md`);
    const profiles: string[] = [];
    if (args.profile) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const keptAs = (name: string) => path.join(path.dirname(out), `${path.basename(out, '.md')}-${name}.cpuprofile`);
      for (const store of ['PostgreSQL', 'embedded'] as const) {
        const profiled: Partial<Record<'base' | 'next', Profiled>> = {};
        for (const key of ['base', 'next'] as const) {
          const name = `${store === 'PostgreSQL' ? 'postgresql' : 'embedded'}-${key === 'next' ? 'new' : 'base'}`;
          const dir = path.join(tmp, `profile-${name}`);
          log(`profiling ${key === 'next' ? 'new' : `base ${baseCommit}`} (${store})`);
          const server = await start(`profiled ${name}`, key === 'next' ? ROOT : baseDir, {
            ...(store === 'PostgreSQL' ? { databaseUrl: database(`profile_${key}`) } : {}),
            nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
          });
          const profiledSide = await side(server);
          await oneToken(profiledSide);
          profiled[key] = await profiledRun(tmp, profiledSide, dir, keptAs(name));
        }
        profiles.push(
          `### ${store}: new against base ${baseCommit} (\`${path.basename(profiled.next!.file)}\`, \`${path.basename(profiled.base!.file)}\`)\n\n${profileComparison(profiled.next!, profiled.base!)}`,
        );
      }
    }

    const finishedAt = new Date();
    const commit = run('git', ['rev-parse', '--short', 'HEAD'], ROOT);
    const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'migrations', 'packages', 'views'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.trim();
    const command = `npm run bench:overhead${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const text = report(results, [
      `# Tollgate overhead — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC\n`,
      `Command: \`${command}\` (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s).  `,
      `Base: ${args.against} (${baseCommit}), built in a temporary worktree. New: this checkout, commit ${commit}${dirty ? ' with uncommitted changes under src/, migrations/, packages/ or views/' : ''}.  `,
      `Machine: ${machineNote(POSTGRES_URL)}.  `,
      `Servers pinned to CPU ${SERVER_CPU}, wrk (1 thread, ${CONNECTIONS} connections) and this script on CPU ${LOAD_CPU}; ES256 client credentials (client_secret_basic, \`resource\` + one scope), ${PAIRS} pairs per configuration of ${SECONDS} s runs after a ${WARMUP} s warm-up, alternating which side runs first; each run first waited for quiet CPUs (${(quiet.waitedMs / 1000).toFixed(0)} s waited over ${quiet.runs} runs, ${quiet.gaveUp} started without a quiet second). LOG_LEVEL=warn; every server has a database of its own.\n`,
      ...(notes.length ? [`${notes.join(' ')}\n`] : []),
    ]);
    const profileText = profiles.length
      ? `\n## CPU profiles (\`--profile\`: \`node --cpu-prof\`, ${PROFILE_SECONDS} s of load each, the load window only; base and new one after the other)\n\n${profiles.join('\n')}\n`
      : '';
    process.stdout.write(`${text}${profileText}\n`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text + profileText);
    log(`written to ${path.relative(process.cwd(), out)}`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:overhead: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
