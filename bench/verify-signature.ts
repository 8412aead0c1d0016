/**
 * What @tollgate/resource-server's local verification of a signed request (RFC 9421, issue 18)
 * costs over the cryptography it cannot avoid.
 *
 *   npm run bench:verify-signature [-- --iterations 20000 --json FILE]
 *
 * One Ed25519 key, one process, a POST with a small JSON body and `content-digest` covered, as
 * signRequest signs it (@method, @target-uri, content-digest, content-type; created, keyid, alg,
 * nonce). Every request has its own nonce (signed before timing starts), so the replay check
 * records each one as new, as it would in production.
 *
 * - library: the verification core an API runs before it asks Tollgate anything
 *   (verify-signature.ts: the headers parsed and bounded, the covered components checked, the
 *   window, the body against Content-Digest, the signature base built by http-message-signatures,
 *   the signature verified, the nonce recorded) with the public key already resolved (the lookup
 *   answer cached, as for 5 s in production) and a MemoryReplayCache;
 * - anchor: a bare `crypto.verify(null, signatureBase, publicKey, signature)` of the same
 *   signature base plus `createHash('sha256')` of the body — no parsing, no base building, nothing
 *   remembered. Target (issue 18): the library within 1.3× of it.
 *
 * What the API pays per request in production also includes the nonce's registration with Tollgate
 * (signatures/verify: a replay is refused across every instance of the API), a loopback round trip
 * measured by `npm run bench -- --only signatures`, not here.
 *
 * Interleaved per operation, in a freshly shuffled order each iteration, each call timed: load from
 * elsewhere on the machine hits both alike, and medians shrug off preemption and GC (as bench/verify.ts).
 */
import { createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MemoryReplayCache, signRequest } from '@tollgate/resource-server';
// The core is not part of the package's public API (verifyRequest reaches it with a Tollgate to ask):
// imported from the build, as the bench scripts run after `npm run build`.
import { verifySignedRequest } from '../packages/resource-server/dist/verify-signature.js';
import { localSignatureKey } from '../packages/resource-server/dist/signature-algorithms.js';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '20000' }, json: { type: 'string' } },
});
/** Bounded: a benchmark that a typo turns into an hour is not one anybody runs. */
const ITERATIONS = Math.min(200_000, Math.max(1000, Number(values.iterations) || 20_000));
const WARMUP = 2000;

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyid = 'ck_benchbenchbenchbenchbe';
const URL_ = 'https://api.example.com/orders?status=open';
const BODY = '{"sku":"A-1","qty":2,"note":"bench"}';

interface Signed {
  request: { method: string; url: string; headers: Record<string, string>; body: string };
  /** The signature base and signature the anchor verifies (the same bytes the library rebuilds). */
  base: Buffer;
  signature: Buffer;
}

/** A request as an API hands it over: lower-case headers (Node's), the body's exact bytes. */
function signed(index: number): Signed {
  const headers: Record<string, string> = { host: 'api.example.com', 'content-type': 'application/json' };
  const added = signRequest(
    { method: 'POST', url: URL_, headers, body: BODY },
    { keyid, key: privateKey, alg: 'ed25519', nonce: `bench-${index}-${Math.random().toString(36).slice(2)}` },
  );
  const request = {
    method: 'POST',
    url: URL_,
    headers: {
      ...headers,
      'content-digest': added['Content-Digest']!,
      'signature-input': added['Signature-Input'],
      signature: added.Signature,
    },
    body: BODY,
  };
  return { request, base: Buffer.alloc(0), signature: Buffer.alloc(0) };
}

const total = WARMUP + ITERATIONS;
const requests: Signed[] = [];
const key = localSignatureKey('ed25519', createPublicKey(privateKey));
const resolveKey = () => key;
// Builds each anchor's inputs from what the library verified, once, before timing.
for (let i = 0; i < total; i += 1) {
  const one = signed(i);
  const verified = await verifySignedRequest(one.request, { resolveKey, replayCache: new MemoryReplayCache() });
  one.base = Buffer.from(verified.signatureBase, 'utf8');
  one.signature = Buffer.from(verified.signature, 'base64');
  requests.push(one);
}

const replayCache = new MemoryReplayCache({ maxEntries: total + 1 });
type Candidate = { name: string; run: (one: Signed) => unknown };
const candidates: Candidate[] = [
  {
    name: 'anchor: crypto.verify(signature base) + sha256(body)',
    run: (one) => {
      createHash('sha256').update(one.request.body).digest();
      if (!cryptoVerify(null, one.base, publicKey, one.signature)) throw new Error('the anchor did not verify');
    },
  },
  {
    name: 'library: verifySignedRequest (key cached, memory nonce store)',
    run: (one) => verifySignedRequest(one.request, { resolveKey, replayCache }),
  },
];

let seed = 0x2545f491;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const order = () => (random() < 0.5 ? candidates : [candidates[1]!, candidates[0]!]);

const times = new Map<Candidate, Float64Array>(
  candidates.map((candidate) => [candidate, new Float64Array(ITERATIONS)]),
);
for (let i = 0; i < total; i += 1) {
  for (const candidate of order()) {
    const started = performance.now();
    await candidate.run(requests[i]!);
    if (i >= WARMUP) times.get(candidate)![i - WARMUP] = performance.now() - started;
  }
}

const median = (values: Float64Array) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mean = (values: Float64Array) => values.reduce((sum, value) => sum + value, 0) / values.length;
const [anchor, library] = candidates as [Candidate, Candidate];
const rows = candidates.map((candidate) => {
  const values = times.get(candidate)!;
  return {
    candidate: candidate.name,
    'µs/op (median)': Number((median(values) * 1000).toFixed(1)),
    'ops/s (median)': Math.round(1000 / median(values)),
    'time vs anchor (median)': Number((median(values) / median(times.get(anchor)!)).toFixed(3)),
    'time vs anchor (mean)': Number((mean(values) / mean(times.get(anchor)!)).toFixed(3)),
  };
});
const ratio = rows[candidates.indexOf(library)]!['time vs anchor (median)'];

console.log(
  `Node ${process.version}, Ed25519, ${ITERATIONS} interleaved verifications per candidate (after ${WARMUP} warm-up), body ${BODY.length} bytes`,
);
console.table(rows);
console.log(
  `library local verification vs crypto.verify + sha256: ${ratio}× (target at most 1.3×: ${ratio <= 1.3 ? 'met' : 'NOT met'})`,
);

if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ node: process.version, iterations: ITERATIONS, warmup: WARMUP, rows, ratio }, null, 2),
  );
