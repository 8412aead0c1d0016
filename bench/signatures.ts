/**
 * The `signatures` section of bench/run.ts (issue 18, "Performance": local Ed25519 verification
 * within 1.3× of a bare crypto.verify of the same signature base plus the digest of the body;
 * HMAC verification through Tollgate p50 ≤ 2 ms on loopback).
 *
 * - In process: bench/verify-signature.ts on the server CPU (the library's local verification
 *   against the anchor, interleaved; its ratio is the issue's first target).
 * - Through Tollgate on PostgreSQL: an HMAC key added to the bench client through the admin API,
 *   then bench/signature-driver.ts on the load CPU — an API's `verifyRequest` of freshly signed
 *   requests, each one asking `POST /signatures/verify` — at one connection (latency without
 *   queueing: the p50 target) and at `connections` (throughput), in `rounds` alternating rounds;
 *   the server's CPU time is metered over each measured phase.
 *
 * The answers are checked as well as counted: every driver request must be accepted for the
 * bench key, and the server's own `tollgate_signature_verifications_total{result}` must have
 * counted them valid.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createVerifier, signRequest, type SignatureCaller } from '@tollgate/resource-server';
import {
  admin,
  CpuMeter,
  type CpuUse,
  fail,
  fmt,
  LOAD_CPU,
  log,
  ms,
  others,
  ROOT,
  type Server,
  SERVER_CPU,
  sleep,
  spawnPinned,
  table,
  waitQuiet,
} from './harness.ts';

export interface SignatureTarget {
  identifier: string;
  scope: string;
}

/** bench/verify-signature.ts's JSON. */
export interface InProcess {
  iterations: number;
  rows: Record<string, string | number>[];
  ratio: number;
}

/** One driver run's measured phase. */
export interface DriverRun {
  connections: number;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  warmupFailures: number;
  firstFailures: string[];
  cpu: CpuUse;
  /** Verifications per second of the server's own CPU time. */
  perCpuSecond: number;
}

export interface SignatureResults {
  inProcess: InProcess;
  connections: number;
  one: DriverRun[];
  many: DriverRun[];
  /** What the server's counter said over all the driver runs, warm-ups included. */
  answers: Record<string, number>;
}

/**
 * The in-process rows, on the server CPU (nothing else runs there meanwhile). Run before any
 * server of the section starts: it blocks this process, and a keep-alive connection the server
 * closed meanwhile would fail the next request on it.
 */
export function runInProcess(tmp: string, iterations: number): InProcess {
  log('signed requests in process (bench/verify-signature.ts)');
  const json = path.join(tmp, 'verify-signature.json');
  const run = spawnSync(
    'taskset',
    [
      '-c',
      SERVER_CPU,
      process.execPath,
      'bench/verify-signature.ts',
      '--iterations',
      String(iterations),
      '--json',
      json,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (run.status !== 0) fail(`bench/verify-signature.ts failed:\n${run.stderr}`);
  return JSON.parse(fs.readFileSync(json, 'utf8')) as InProcess;
}

async function verificationCounts(server: Server): Promise<Record<string, number>> {
  const response = await fetch(`${server.tollgate!.adminUrl}/metrics`, {
    headers: { authorization: `Bearer ${server.tollgate!.adminToken}` },
  });
  const text = await response.text();
  if (!response.ok) fail(`GET /metrics answered ${response.status}`);
  const counts: Record<string, number> = {};
  for (const [, result, value] of text.matchAll(/^tollgate_signature_verifications_total\{result="(\w+)"\} (\d+)/gm))
    counts[result!] = Number(value);
  return counts;
}

/** An HMAC key for the bench client, checked once through the library as the driver will use it. */
async function benchKey(server: Server, api: SignatureTarget): Promise<{ keyid: string; secret: string }> {
  const added = await admin(server, 'POST', `/clients/${server.clientId}/keys`, { hmac: true });
  const keyid = typeof added.keyid === 'string' ? added.keyid : fail('add-key answered without a keyid');
  const secret = typeof added.secret === 'string' ? added.secret : fail('add-key --hmac answered without a secret');
  const verifier = createVerifier({ issuer: server.issuer, audience: api.identifier });
  const url = 'https://orders.bench.example/orders';
  const body = '{"check":true}';
  const headers = { 'content-type': 'application/json' };
  const request = () => ({
    method: 'POST',
    url,
    headers: {
      ...headers,
      ...signRequest({ method: 'POST', url, headers, body }, { keyid, key: secret, alg: 'hmac-sha256' }),
    },
    body,
  });
  const caller = (await verifier.verifyRequest(request(), { schemes: ['signature'] })) as SignatureCaller;
  if (caller.keyid !== keyid || caller.client_id !== server.clientId || caller.scope !== api.scope)
    fail(`the bench HMAC key was not verified as expected: ${JSON.stringify(caller)}`);
  const wrong = request();
  wrong.body = '{"check":false}';
  const refused = await verifier.verifyRequest(wrong, { schemes: ['signature'] }).then(
    () => false,
    (error: { status?: number }) => error.status === 401,
  );
  if (!refused) fail('a request whose body does not match its signature was not refused');
  log('one HMAC-signed request verified through Tollgate; an altered one refused');
  return { keyid, secret };
}

/** bench/signature-driver.ts on the load CPU at `connections`; the server's CPU metered over the measured phase. */
async function drive(
  server: Server,
  tmp: string,
  config: { audience: string; keyid: string; secret: string; connections: number; warmup: number; duration: number },
): Promise<DriverRun> {
  await waitQuiet();
  const logFile = path.join(tmp, `signature-driver-${config.connections}.log`);
  const running = spawnPinned(
    `signature driver (${config.connections} connections)`,
    LOAD_CPU,
    process.execPath,
    ['bench/signature-driver.ts'],
    {
      ...process.env,
      BENCH_DRIVER: JSON.stringify({
        issuer: server.issuer,
        audience: config.audience,
        keyid: config.keyid,
        secret: config.secret,
        connections: config.connections,
        warmupSeconds: config.warmup,
        durationSeconds: config.duration,
      }),
    },
    logFile,
    { ipc: true },
  );
  const meter = new CpuMeter(server.running.pid, server.databaseUrl);
  let metering: Promise<unknown> = Promise.resolve();
  let cpu: CpuUse | undefined;
  running.child.on('message', (message: { phase?: string }) => {
    const ack = () => running.child.send({ ack: message.phase });
    if (message.phase === 'start') metering = meter.start().then(ack);
    if (message.phase === 'end') {
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
    /BENCH_JSON (.*)/.exec(output)?.[1] ?? fail(`the signature driver exited ${code}:\n${output.slice(-2000)}`);
  const result = JSON.parse(line) as Omit<DriverRun, 'connections' | 'cpu' | 'perCpuSecond'>;
  if (!cpu) return fail('the signature driver never reported its measured phase');
  return {
    ...result,
    connections: config.connections,
    cpu,
    perCpuSecond: cpu.server > 0 ? result.requests / cpu.server : NaN,
  };
}

export async function runSignatures(
  server: Server,
  api: SignatureTarget,
  inProcess: InProcess,
  options: { tmp: string; rounds: number; connections: number; duration: number; warmup: number },
): Promise<SignatureResults> {
  const { keyid, secret } = await benchKey(server, api);
  const results: SignatureResults = { inProcess, connections: options.connections, one: [], many: [], answers: {} };
  const before = await verificationCounts(server);
  for (let round = 0; round < options.rounds; round += 1) {
    // Alternate the order, so that a slow stretch of the machine does not always hit the same row.
    const order = round % 2 ? [options.connections, 1] : [1, options.connections];
    for (const connections of order) {
      log(`signatures round ${round + 1}/${options.rounds}: HMAC through Tollgate, ${connections} connection(s)`);
      const run = await drive(server, options.tmp, {
        ...options,
        audience: api.identifier,
        keyid,
        secret,
        connections,
      });
      (connections === 1 ? results.one : results.many).push(run);
    }
  }
  await sleep(500);
  const after = await verificationCounts(server);
  for (const result of new Set([...Object.keys(before), ...Object.keys(after)]))
    results.answers[result] = (after[result] ?? 0) - (before[result] ?? 0);
  return results;
}

/** The issue's targets. */
export const TARGETS = { localRatio: 1.3, hmacP50Ms: 2 } as const;

const fastest = (runs: DriverRun[]) => [...runs].sort((a, b) => a.p50 - b.p50)[0];
const busiest = (runs: DriverRun[]) => [...runs].sort((a, b) => b.rps - a.rps)[0];

export function signatureReport(
  results: SignatureResults,
  context: { duration: number; warmup: number; failureLimit: string },
  targets: [string, string, boolean][],
): string[] {
  const lines: string[] = [];
  const { inProcess, one, many } = results;
  const bestOne = fastest(one);
  const bestMany = busiest(many);
  if (!bestOne || !bestMany) return fail('the signatures section has no result');

  lines.push(`## Signed requests (RFC 9421, issue 18)\n`);
  lines.push(
    `### Local verification in the library (Ed25519), in process on CPU ${SERVER_CPU}\n`,
    `bench/verify-signature.ts: ${fmt(inProcess.iterations)} verifications per candidate, interleaved in a shuffled order each iteration, each timed (medians). A POST with a small JSON body signed as signRequest signs it (\`@method\`, \`@target-uri\`, \`content-digest\`, \`content-type\`; created, keyid, alg, nonce), every request with its own nonce. "library" is the core an API runs before asking Tollgate anything (headers parsed and bounded, components checked, window, body against Content-Digest, signature base by http-message-signatures, signature, nonce recorded in a MemoryReplayCache), the key already resolved; the anchor verifies the same signature base with \`crypto.verify\` and hashes the body, nothing else.\n`,
    table(
      Object.keys(inProcess.rows[0]!),
      inProcess.rows.map((row) => Object.values(row)),
    ),
    '',
  );
  const all = [...one, ...many];
  const failed = all.reduce((sum, run) => sum + run.failures + run.warmupFailures, 0);
  lines.push(
    `### HMAC verification through Tollgate (PostgreSQL): \`verifyRequest\` → \`POST /signatures/verify\`\n`,
    `bench/signature-driver.ts on CPU ${LOAD_CPU} (Tollgate on CPU ${SERVER_CPU}): concurrent loops, each signing a partner's POST (small JSON body, content-digest) with signRequest and hmac-sha256 on the fly, then timing \`verifier.verifyRequest(request, { schemes: ['signature'] })\` — the library's local checks and its question to Tollgate (the HMAC checked where the secret is sealed, the nonce recorded), over keep-alive connections; the key's lookup cached by the library (5 s). ${context.duration} s measured after ${context.warmup} s warm-up, ${one.length} round(s) per row (all listed; the best counts: lowest p50 at 1 connection, highest throughput at ${results.connections}). SIGNATURE_VERIFICATION_FAILURE_LIMIT=${context.failureLimit}.\n`,
    table(
      [
        'row',
        'round',
        'verifications/s',
        'p50 ms',
        'p99 ms',
        'per CPU-second',
        'PostgreSQL CPU-s',
        `others on CPU ${SERVER_CPU}`,
        'failures',
      ],
      all.map((run) => [
        `HMAC, ${run.connections} connection${run.connections === 1 ? '' : 's'}${run === bestOne || run === bestMany ? ' (best)' : ''}`,
        (run.connections === 1 ? one : many).indexOf(run) + 1,
        fmt(run.rps),
        ms(run.p50),
        ms(run.p99),
        fmt(run.perCpuSecond),
        run.cpu.postgres === undefined ? 'n/a' : run.cpu.postgres.toFixed(1),
        others(run.cpu),
        run.failures + run.warmupFailures,
      ]),
    ),
    '',
    `Answers counted by the server over these runs (tollgate_signature_verifications_total, warm-ups and the lookups' sanity check included): ${
      Object.entries(results.answers)
        .map(([result, count]) => `${result} ${fmt(count)}`)
        .join(', ') || 'none'
    }; the driver saw ${failed} refusal(s) or error(s)${
      failed
        ? ` (first: ${all
            .flatMap((run) => run.firstFailures)
            .slice(0, 3)
            .join('; ')})`
        : ''
    }.\n`,
  );
  targets.push(
    [
      `Local Ed25519 verification (library core) ≤ ${TARGETS.localRatio}× crypto.verify + sha256 of the body`,
      `${inProcess.ratio}× (median, in process)`,
      inProcess.ratio <= TARGETS.localRatio,
    ],
    [
      `HMAC verification through Tollgate p50 ≤ ${TARGETS.hmacP50Ms} ms on loopback (1 connection)`,
      `p50 ${ms(bestOne.p50)} ms, p99 ${ms(bestOne.p99)} ms, ${fmt(bestOne.rps)}/s; at ${results.connections} connections ${fmt(bestMany.rps)}/s (p50 ${ms(bestMany.p50)} ms, p99 ${ms(bestMany.p99)} ms), ${failed} failures`,
      bestOne.p50 <= TARGETS.hmacP50Ms && failed === 0,
    ],
  );
  return lines;
}
