/**
 * What bench/run.ts and bench/overhead.ts share: processes pinned to a CPU (servers on CPU 0,
 * load on CPU 1), their memory and CPU time from /proc, Tollgate started as `npm start` starts it
 * and set up through its admin API, wrk runs read back through a Lua `done` hook, the fresh
 * PostgreSQL database of a run and its write counters, and the report's number formats.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const SERVER_CPU = '0';
export const LOAD_CPU = '1';

export const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const fail = (message: string): never => {
  throw new Error(message);
};
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
/** The lower and upper quartiles (nearest rank, outward). */
export const quartiles = (values: number[]): [number, number] => {
  const v = [...values].sort((a, b) => a - b);
  return [v[Math.floor((v.length - 1) / 4)]!, v[Math.ceil((3 * (v.length - 1)) / 4)]!];
};

// ---------------------------------------------------------------------------------------------
// processes, memory, CPU time

export interface Running {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function spawnPinned(
  name: string,
  cpu: string,
  command: string,
  commandArgs: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  options: { group?: boolean; ipc?: boolean; cwd?: string } = {},
): Running {
  const fd = fs.openSync(logFile, 'w');
  const child = spawn('taskset', ['-c', cpu, command, ...commandArgs], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['ignore', fd, fd, ...(options.ipc ? ['ipc' as const] : [])],
    detached: options.group ?? false,
  });
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, pid: child.pid ?? fail(`could not start ${name}`), logFile, exited };
}

const tail = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '';

export async function waitFor(running: Running, url: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  let exited = false;
  void running.exited.then(() => {
    exited = true;
  });
  while (performance.now() - started < timeoutMs) {
    if (exited) fail(`${running.name} exited before it was ready:\n${tail(running.logFile)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - started;
    } catch {
      /* not listening yet */
    }
    await sleep(10);
  }
  return fail(`${running.name} not ready at ${url} within ${timeoutMs} ms:\n${tail(running.logFile)}`);
}

export async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
  await running.exited;
  clearTimeout(timer);
}

/** VmRSS / VmHWM of a process, MiB. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of a process, all its threads. */
export function processCpu(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * Busy, stolen and total seconds of one CPU since boot. Busy includes steal: time the hypervisor
 * gave to another machine while this one had work, which slows a run as much as a neighbour does.
 */
export function coreTime(cpu: string): { busy: number; steal: number; total: number } {
  const line =
    fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `)) ?? fail(`no cpu${cpu} in /proc/stat`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  const total = user! + nice! + system! + idle! + iowait! + irq! + softirq! + steal!;
  return { busy: (total - idle! - iowait!) / CLK_TCK, steal: steal! / CLK_TCK, total: total / CLK_TCK };
}

export interface CpuUse {
  /** The server process's CPU seconds in the window. */
  server: number;
  /** CPU seconds of the PostgreSQL backends serving the bench database. */
  postgres?: number;
  /** Share of CPU 0 used by anything but the server in the window, steal included. */
  othersOnServerCpu: number;
  /** The part of that share the hypervisor took (steal). */
  stealOnServerCpu: number;
}

export class CpuMeter {
  #server = 0;
  #core = { busy: 0, steal: 0, total: 0 };
  #postgres = new Map<number, number>();
  readonly pid: number;
  readonly databaseUrl: string | undefined;

  constructor(pid: number, databaseUrl?: string) {
    this.pid = pid;
    this.databaseUrl = databaseUrl;
  }

  async start(): Promise<void> {
    this.#postgres = new Map((await this.#backends()).map((p) => [p, processCpu(p)]));
    this.#server = processCpu(this.pid);
    this.#core = coreTime(SERVER_CPU);
  }

  async stop(): Promise<CpuUse> {
    const server = processCpu(this.pid) - this.#server;
    const core = coreTime(SERVER_CPU);
    const postgres = this.databaseUrl
      ? (await this.#backends()).reduce((sum, p) => sum + processCpu(p) - (this.#postgres.get(p) ?? 0), 0)
      : undefined;
    const total = core.total - this.#core.total;
    const share = (seconds: number) => (total > 0 ? Math.max(0, seconds / total) : 0);
    return {
      server,
      ...(postgres === undefined ? {} : { postgres }),
      othersOnServerCpu: share(core.busy - this.#core.busy - server),
      stealOnServerCpu: share(core.steal - this.#core.steal),
    };
  }

  async #backends(): Promise<number[]> {
    if (!this.databaseUrl) return [];
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return rows.map((row) => row.pid);
    } finally {
      await client.end();
    }
  }
}

export interface Server {
  label: string;
  running: Running;
  issuer: string;
  tokenUrl: string;
  jwksUri: string;
  discoveryUrl?: string;
  clientId: string;
  clientSecret: string;
  databaseUrl?: string;
  idleRss?: number;
  peakTokenLoad?: number;
  peakOverall?: number;
  tollgate?: {
    adminUrl: string;
    adminToken: string;
    webClientId?: string;
    webClientSecret?: string;
    username?: string;
    password?: string;
  };
}

export const KEK = randomBytes(32).toString('base64url');
export const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const TOLLGATE_VARS = [
  'PORT',
  'HOST',
  'ISSUER',
  'TRUST_PROXY',
  'ADMIN_PORT',
  'ADMIN_HOST',
  'ADMIN_TOKEN',
  'DATABASE_URL',
  'DATA_DIR',
  'KEY_ENCRYPTION_KEY',
  'KEY_ENCRYPTION_KEY_PREVIOUS',
  'LOG_LEVEL',
  'TEST_DATABASE_URL',
  'NODE_OPTIONS',
  'REDIS_URL',
];

export function tollgateEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of TOLLGATE_VARS) delete env[name];
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** Tollgate runs as `npm start` runs it: with the Node flags of package.json's start script (the Dockerfile's CMD has the same). */
export const NODE_START = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start;
export const TOLLGATE_NODE_ARGS = NODE_START.split(/\s+/).filter((word) => word.startsWith('--'));

export async function startTollgate(
  label: string,
  options: {
    tmp: string;
    dataDir: string;
    databaseUrl?: string;
    logLevel: string;
    nodeArgs?: string[];
    /** The checkout whose dist/ runs (another build of Tollgate); this one by default. */
    root?: string;
    env?: Record<string, string>;
  },
): Promise<Server> {
  const port = await freePort();
  const adminPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = tollgateEnv({
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    KEY_ENCRYPTION_KEY: KEK,
    ADMIN_TOKEN,
    LOG_LEVEL: options.logLevel,
    ...options.env,
  });
  const running = spawnPinned(
    label,
    SERVER_CPU,
    process.execPath,
    [...TOLLGATE_NODE_ARGS, ...(options.nodeArgs ?? []), 'dist/src/main.js'],
    env,
    path.join(options.tmp, `${label.replace(/\W+/g, '-')}.log`),
    { cwd: options.root ?? ROOT },
  );
  await waitFor(running, `${issuer}/readyz`);
  return {
    label,
    running,
    issuer,
    databaseUrl: options.databaseUrl,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    clientId: '',
    clientSecret: '',
    tollgate: { adminUrl: `http://127.0.0.1:${adminPort}`, adminToken: ADMIN_TOKEN },
  };
}

export async function admin(
  server: Server,
  method: string,
  route: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.tollgate!.adminUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${server.tollgate!.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) fail(`admin ${method} ${route} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

// ---------------------------------------------------------------------------------------------
// load

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  socketErrors: number;
  cpu: CpuUse;
  /** Requests per second of the server's own CPU time. */
  perCpuSecond: number;
  startedAt: number;
  endedAt: number;
  /** Requests answered in the warm-up before the measured part (database counters span both). */
  warmupRequests: number;
}

export interface LoadRequest {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

let scriptCounter = 0;
export async function wrk(
  tmp: string,
  url: string,
  options: LoadRequest & { duration: number; connections: number },
): Promise<Omit<LoadResult, 'cpu' | 'perCpuSecond' | 'startedAt' | 'endedAt' | 'warmupRequests'>> {
  const lua = [
    `wrk.method = ${JSON.stringify(options.method ?? 'GET')}`,
    ...(options.body ? [`wrk.body = ${JSON.stringify(options.body)}`] : []),
    ...Object.entries(options.headers ?? {}).map(
      ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
    ),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("BENCH_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50\\":%d,\\"p99\\":%d}\\n",',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))',
    'end',
  ].join('\n');
  const script = path.join(tmp, `wrk-${(scriptCounter += 1)}.lua`);
  fs.writeFileSync(script, lua);
  const child = spawn(
    'taskset',
    [
      '-c',
      LOAD_CPU,
      'wrk',
      '-t1',
      `-c${options.connections}`,
      `-d${options.duration}s`,
      '--timeout',
      '5s',
      '-s',
      script,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = /BENCH_JSON (.*)/.exec(output)?.[1] ?? fail(`wrk exited ${code} without a result:\n${output}`);
  const raw = JSON.parse(line) as Record<string, number>;
  const seconds = raw.duration_us! / 1e6;
  return {
    requests: raw.requests!,
    seconds,
    rps: raw.requests! / seconds,
    p50: raw.p50! / 1000,
    p99: raw.p99! / 1000,
    non2xx: raw.status!,
    socketErrors: raw.connect! + raw.read! + raw.write! + raw.timeout!,
  };
}

/**
 * The machine may be shared: before a run, wait (at most 30 s) for a second in which CPU 0 is
 * nearly idle and CPU 1 mostly so (between runs the servers are idle, so what is busy is someone else).
 */
export const quiet = { waitedMs: 0, gaveUp: 0, runs: 0 };
/** All the waiting one bench run may do, so that it stays bounded. */
const QUIET_BUDGET_MS = 120_000;
export async function waitQuiet(maxMs = 15_000): Promise<void> {
  const started = Date.now();
  quiet.runs += 1;
  if (quiet.waitedMs >= QUIET_BUDGET_MS) {
    quiet.gaveUp += 1;
    return;
  }
  for (;;) {
    const [a0, a1] = [coreTime(SERVER_CPU), coreTime(LOAD_CPU)];
    await sleep(1000);
    const [b0, b1] = [coreTime(SERVER_CPU), coreTime(LOAD_CPU)];
    const busy0 = (b0.busy - a0.busy) / Math.max(0.01, b0.total - a0.total);
    const busy1 = (b1.busy - a1.busy) / Math.max(0.01, b1.total - a1.total);
    if (busy0 < 0.1 && busy1 < 0.3) break;
    if (Date.now() - started > maxMs || quiet.waitedMs + Date.now() - started > QUIET_BUDGET_MS) {
      quiet.gaveUp += 1;
      break;
    }
  }
  quiet.waitedMs += Date.now() - started - 1000;
}

/** One measured wrk run after a warm-up, with the server's CPU time over the measured part. */
export async function load(
  tmp: string,
  server: Pick<Server, 'running' | 'databaseUrl'>,
  url: string,
  options: LoadRequest & { duration: number; warmup: number; connections: number },
): Promise<LoadResult> {
  await waitQuiet();
  const { warmup } = options;
  const warmupRequests = warmup > 0 ? (await wrk(tmp, url, { ...options, duration: warmup })).requests : 0;
  const meter = new CpuMeter(server.running.pid, server.databaseUrl);
  await meter.start();
  const startedAt = Date.now();
  const result = await wrk(tmp, url, options);
  const endedAt = Date.now();
  const cpu = await meter.stop();
  return {
    ...result,
    cpu,
    perCpuSecond: cpu.server > 0 ? result.requests / cpu.server : NaN,
    startedAt,
    endedAt,
    warmupRequests,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database per run, and its write counters

export function psqlTool(postgresUrl: string, tool: string, toolArgs: string[]): void {
  const url = new URL(postgresUrl);
  const result = spawnSync(
    tool,
    ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres'), ...toolArgs],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) fail(`${tool} ${toolArgs.join(' ')} failed: ${result.stderr || result.error?.message}`);
}

export async function databaseCounters(databaseUrl: string): Promise<{ writes: number; transactions: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const writes = await client.query<{ n: string | null }>(
      'SELECT sum(n_tup_ins + n_tup_upd + n_tup_del)::bigint AS n FROM pg_stat_user_tables',
    );
    const xacts = await client.query<{ n: string }>(
      'SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return { writes: Number(writes.rows[0]?.n ?? 0), transactions: Number(xacts.rows[0]?.n ?? 0) };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// report helpers

export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
export const ms = (value: number) =>
  Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) : 'n/a';
export const pct = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : 'n/a');
/** "Others on CPU 0", with the hypervisor's part named when there was one. */
export const others = (cpu: CpuUse) =>
  cpu.stealOnServerCpu >= 0.005
    ? `${pct(cpu.othersOnServerCpu)} (steal ${pct(cpu.stealOnServerCpu)})`
    : pct(cpu.othersOnServerCpu);
export const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
export function table(headers: string[], rows: (string | number)[][], align?: string): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${align ?? headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function machineNote(postgresUrl: string): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const wrkVersion =
    spawnSync('wrk', ['--version'], { encoding: 'utf8' })
      .stdout.split('\n')[0]
      ?.replace(/ Copyright.*/, '')
      .trim() ?? 'wrk';
  const url = new URL(postgresUrl);
  const pgVersion = spawnSync(
    'psql',
    ['-h', url.hostname, '-p', url.port || '5432', '-U', 'postgres', '-Atc', 'SHOW server_version'],
    { encoding: 'utf8' },
  ).stdout.trim();
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}; Node ${process.version}; PostgreSQL ${pgVersion || '?'} on 127.0.0.1 (not pinned: its backends run on either CPU); ${wrkVersion}`;
}

/** How fast this machine signs ES256 with node:crypto alone, on the server CPU: the floor for a token. */
export function signingFloor(): number {
  const script = `const { generateKeyPairSync, sign } = require('node:crypto');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = Buffer.alloc(350, 97); let best = 0;
for (let r = 0; r < 3; r++) { const t = performance.now(); let n = 0; while (performance.now() - t < 500) { sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }); n++; } best = Math.max(best, n * 2); }
console.log(best);`;
  const result = spawnSync('taskset', ['-c', SERVER_CPU, process.execPath, '-e', script], { encoding: 'utf8' });
  return Number(result.stdout.trim());
}
