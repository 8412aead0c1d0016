/**
 * The load of the `signatures` section of bench/run.ts, run by it as its own process on the
 * load-generator core: an API verifying HMAC-signed requests (RFC 9421, issue 18) through Tollgate.
 *
 * wrk cannot do this: each request needs a fresh nonce and `created` and an HMAC over them. So
 * `connections` concurrent loops each, per request, sign a partner's POST (small JSON body,
 * content-digest) with the library's signRequest — on the fly, outside the timed part — and then
 * time `verifier.verifyRequest(request, { schemes: ['signature'] })`: what an API's request waits
 * for, i.e. the library's local checks, then `POST {issuer}/signatures/verify` (the HMAC checked
 * where the secret is kept, the nonce recorded for every instance), over keep-alive connections
 * (Node's fetch, one per loop at most). The key's lookup is cached by the library (5 s), so it
 * is asked about once per 5 s, as in production.
 *
 * Every answer is checked (accepted, for this key); a refusal counts as a failure. Configuration
 * is one JSON object in BENCH_DRIVER; the result is one line `BENCH_JSON {…}`. Over IPC it tells
 * bench/run.ts where the measured phase starts and ends (the server's CPU is metered over it).
 */
import { createVerifier, signRequest, type SignatureCaller } from '@tollgate/resource-server';

interface DriverConfig {
  issuer: string;
  audience: string;
  keyid: string;
  secret: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

const config = JSON.parse(process.env.BENCH_DRIVER ?? '{}') as DriverConfig;
const verifier = createVerifier({ issuer: config.issuer, audience: config.audience });
const URL_ = 'https://orders.bench.example/orders';

let sequence = 0;
let measuring = false;
let stopAt = 0;
let accepted = 0;
const failures: string[] = [];
const latencies: number[] = [];

/** One signed request, verified; its time (ms) or a failure. */
async function once(): Promise<void> {
  sequence += 1;
  const body = JSON.stringify({ sku: 'A-1', qty: 2, order: sequence });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const signed = signRequest(
    { method: 'POST', url: URL_, headers, body },
    { keyid: config.keyid, key: config.secret, alg: 'hmac-sha256' },
  );
  const request = { method: 'POST', url: URL_, headers: { ...headers, ...signed }, body };
  const started = performance.now();
  try {
    const caller = (await verifier.verifyRequest(request, { schemes: ['signature'] })) as SignatureCaller;
    const elapsed = performance.now() - started;
    if (caller.keyid !== config.keyid) throw new Error(`accepted for another key: ${caller.keyid}`);
    if (measuring) {
      accepted += 1;
      latencies.push(elapsed);
    }
  } catch (error) {
    if (failures.length < 5) failures.push((error as Error).message);
    else failures.push('');
  }
}

async function loop(): Promise<void> {
  while (Date.now() < stopAt) await once();
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

const loops = Array.from({ length: config.connections }, () => loop);
stopAt = Date.now() + config.warmupSeconds * 1000;
await Promise.all(loops.map((run) => run()));
const warmupFailures = failures.length;
await phase('start');
measuring = true;
const started = performance.now();
stopAt = Date.now() + config.durationSeconds * 1000;
await Promise.all(loops.map((run) => run()));
const seconds = (performance.now() - started) / 1000;
await phase('end');

latencies.sort((a, b) => a - b);
const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))] ?? NaN;
process.stdout.write(
  `BENCH_JSON ${JSON.stringify({
    requests: accepted,
    seconds,
    rps: accepted / seconds,
    p50: at(0.5),
    p99: at(0.99),
    failures: failures.length - warmupFailures,
    warmupFailures,
    firstFailures: failures.filter(Boolean),
  })}\n`,
);
// Node's fetch keeps its connections open: the process is done.
process.exit(0);
