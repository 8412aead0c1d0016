/**
 * The `apikeys` section of bench/run.ts (issue 17, "an uncached verification through Tollgate on
 * PostgreSQL: p50 ≤ 2 ms, p99 ≤ 10 ms on loopback, ≥ 5,000 verifications/s on one core"): an API
 * key issued through the admin API, then `POST {issuer}/api-keys/verify` loaded with wrk the way
 * an API's library asks (form, `token` + `audience`), beside two anchors on the same Tollgate in
 * the same rounds: its client-credentials tokens (what a partner would do without a key) and its
 * JWKS (what an API fetches when it verifies JWTs itself). Two refused keys (a made-up one with a
 * right checksum, and a revoked one) run next to the valid one, for the issue's "about the same
 * time for each".
 *
 * The answers are checked as well as counted: once before any load, and during it through the
 * server's own `tollgate_api_key_verifications_total{result}` (a valid-key run that turned
 * inactive would still be 200s to wrk).
 */
import { generateApiKey } from '@tollgate/resource-server/api-key-format';
import {
  admin,
  databaseCounters,
  fail,
  fmt,
  log,
  ms,
  others,
  ratio,
  sleep,
  table,
  type LoadRequest,
  type LoadResult,
  type Server,
} from './harness.ts';

/** What the section asks of run.ts: a wrk run on the section's server, at this run's settings unless overridden. */
export type SectionLoad = (
  url: string,
  options: LoadRequest & { connections?: number; duration?: number; warmup?: number },
) => Promise<LoadResult>;

export interface ApiKeyTarget {
  identifier: string;
  scope: string;
}

const CC = 'client credentials (ES256 token)';
const JWKS = 'JWKS (GET)';
const VALID = 'API key, valid';
const REFUSED = 'API key, refused (well-formed, unknown)';
const REVOKED = 'API key, refused (revoked)';
/** The rows of the section, each with every round's result (the fastest counts, as for client credentials). */
export const ROWS = [CC, JWKS, VALID, REFUSED, REVOKED] as const;
export type Row = (typeof ROWS)[number];
/** The rows also run at one connection, for latency without queueing. */
const SINGLE: readonly Row[] = [CC, VALID, REFUSED, REVOKED];
const VERIFICATIONS: readonly Row[] = [VALID, REFUSED, REVOKED];

export interface ApiKeyResults {
  connections: number;
  rounds: { many: Map<Row, LoadResult[]>; one: Map<Row, LoadResult[]> };
  /** Rows written and transactions per verification (round 1, warm-ups included). */
  database: Partial<Record<Row, { writes: number; transactions: number; verifications: number }>>;
  /** What the server's counter said each verification run answered, summed over all runs. */
  answers: Partial<Record<Row, { valid: number; invalid: number; requests: number }>>;
}

const form = (token: string, audience: string) => new URLSearchParams({ token, audience }).toString();

async function ask(url: string, token: string, audience: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form(token, audience),
  });
  const text = await response.text();
  // The body holds no key (the endpoint never echoes it), so it may go into a failure message.
  if (response.status !== 200) fail(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The server's tollgate_api_key_verifications_total, by result. */
async function verificationCounts(server: Server): Promise<{ valid: number; invalid: number }> {
  const response = await fetch(`${server.tollgate!.adminUrl}/metrics`, {
    headers: { authorization: `Bearer ${server.tollgate!.adminToken}` },
  });
  const text = await response.text();
  if (!response.ok) fail(`GET /metrics answered ${response.status}`);
  const count = (result: string) =>
    Number(
      new RegExp(`^tollgate_api_key_verifications_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
    );
  return { valid: count('valid'), invalid: count('invalid') };
}

/** A key issued for the bench, a made-up one, and where an API asks about them (from discovery). */
export interface BenchKeys {
  url: string;
  key: string;
  unknown: string;
  /** Issued like `key`, then revoked. */
  revoked: string;
}

/**
 * Issues a key to `server.clientId` for `api` and checks the endpoint once: the key active with the
 * right client, scope and audience; a made-up key (checksum right) exactly `{active: false}`. The
 * key lives only in memory and in wrk's script in the run's scratch directory.
 */
export async function issueBenchKeys(server: Server, api: ApiKeyTarget): Promise<BenchKeys> {
  const discovery = (await (await fetch(server.discoveryUrl!)).json()) as { api_key_verification_endpoint?: string };
  const url = discovery.api_key_verification_endpoint ?? fail('discovery names no api_key_verification_endpoint');
  const issued = await admin(server, 'POST', '/api-keys', {
    client_id: server.clientId,
    scopes: [api.scope],
    name: 'bench partner',
  });
  const key = typeof issued.key === 'string' ? issued.key : fail('POST /api-keys answered without a key');
  const unknown = generateApiKey();

  const answer = await ask(url, key, api.identifier);
  if (
    answer.active !== true ||
    answer.client_id !== server.clientId ||
    answer.scope !== api.scope ||
    answer.aud !== api.identifier ||
    answer.key_id !== issued.id
  )
    fail(`the issued key was not verified as expected: ${JSON.stringify(answer)}`);
  const refusal = await ask(url, unknown, api.identifier);
  if (JSON.stringify(refusal) !== '{"active":false}') fail(`a made-up key was answered ${JSON.stringify(refusal)}`);
  const second = await admin(server, 'POST', '/api-keys', {
    client_id: server.clientId,
    scopes: [api.scope],
    name: 'bench partner, revoked',
  });
  const revoked = typeof second.key === 'string' ? second.key : fail('POST /api-keys answered without a key');
  if ((await ask(url, revoked, api.identifier)).active !== true)
    fail('the second key was not active before revocation');
  await admin(server, 'POST', `/api-keys/${String(second.id)}/revoke`, {});
  const afterRevocation = await ask(url, revoked, api.identifier);
  if (JSON.stringify(afterRevocation) !== '{"active":false}')
    fail(`a revoked key was answered ${JSON.stringify(afterRevocation)}`);
  log('one API key verified active through the endpoint; a made-up one and a revoked one inactive');
  return { url, key, unknown, revoked };
}

/** The question an API's library asks: a form with the key as `token` and the API as `audience`. */
export const verificationRequest = (token: string, api: ApiKeyTarget): LoadRequest => ({
  method: 'POST',
  body: form(token, api.identifier),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
});

/**
 * Runs `rounds` alternating rounds of the rows at `connections`, then of all but the JWKS at one
 * connection, on the keys from issueBenchKeys.
 */
export async function runApiKeys(
  server: Server,
  api: ApiKeyTarget,
  options: {
    rounds: number;
    connections: number;
    load: SectionLoad;
    databaseUrl: string;
    /** The anchor's token request (client_secret_basic, `resource` + the API's scope). */
    ccRequest: LoadRequest;
  },
): Promise<ApiKeyResults> {
  const { url, key, unknown, revoked } = await issueBenchKeys(server, api);
  const runs: Record<Row, (connections: number) => Promise<LoadResult>> = {
    [CC]: (connections) => options.load(server.tokenUrl, { ...options.ccRequest, connections }),
    [JWKS]: (connections) => options.load(server.jwksUri, { connections }),
    [VALID]: (connections) => options.load(url, { ...verificationRequest(key, api), connections }),
    [REFUSED]: (connections) => options.load(url, { ...verificationRequest(unknown, api), connections }),
    [REVOKED]: (connections) => options.load(url, { ...verificationRequest(revoked, api), connections }),
  };

  const results: ApiKeyResults = {
    connections: options.connections,
    rounds: { many: new Map(), one: new Map() },
    database: {},
    answers: {},
  };
  const record = (map: Map<Row, LoadResult[]>, row: Row, result: LoadResult) =>
    map.set(row, [...(map.get(row) ?? []), result]);
  for (let round = 0; round < options.rounds; round += 1) {
    // Alternate the order, so that a slow stretch of the machine does not always hit the same row.
    const order = round % 2 ? [...ROWS].reverse() : [...ROWS];
    for (const [connections, rows, map] of [
      [options.connections, order, results.rounds.many],
      [1, order.filter((row) => SINGLE.includes(row)), results.rounds.one],
    ] as const) {
      for (const row of rows) {
        log(`API keys round ${round + 1}/${options.rounds}, ${connections} connection(s): ${row}`);
        const verification = VERIFICATIONS.includes(row);
        // PostgreSQL reports a backend's counters up to 10 s after the fact: let the last run's settle.
        const counted = verification && round === 0 && connections === options.connections;
        if (counted) await sleep(11_000);
        const before = counted ? await databaseCounters(options.databaseUrl) : undefined;
        // A request in flight when the last run's wrk stopped is answered (and counted) a moment later.
        if (verification) await sleep(500);
        const countsBefore = verification ? await verificationCounts(server) : undefined;
        const result = await runs[row](connections);
        if (countsBefore) {
          await sleep(500);
          const after = await verificationCounts(server);
          const seen = results.answers[row] ?? { valid: 0, invalid: 0, requests: 0 };
          results.answers[row] = {
            valid: seen.valid + after.valid - countsBefore.valid,
            invalid: seen.invalid + after.invalid - countsBefore.invalid,
            requests: seen.requests + result.requests + result.warmupRequests,
          };
        }
        if (before) {
          await sleep(11_000);
          const after = await databaseCounters(options.databaseUrl);
          results.database[row] = {
            writes: after.writes - before.writes,
            // Less the bench's own reading of the counters.
            transactions: after.transactions - before.transactions - 1,
            verifications: result.requests + result.warmupRequests,
          };
        }
        record(map, row, result);
      }
    }
  }
  const still = await ask(url, key, api.identifier);
  if (still.active !== true) fail(`after the load the issued key answered ${JSON.stringify(still)}`);
  return results;
}

const fastest = (results: LoadResult[] | undefined) => [...(results ?? [])].sort((a, b) => b.rps - a.rps)[0];

/** The issue's targets for the uncached verification, judged on this run. */
export const TARGETS = { p50Ms: 2, p99Ms: 10, perSecond: 5000 } as const;

/**
 * The section's report: the table (rows: the anchors, the valid key, the refused key; the cached
 * verification in the library belongs in bench/verify.ts's table, see below), the checks on the
 * answers, the database work, and the targets with a verdict (pushed onto `targets`).
 */
export function apiKeyReport(
  results: ApiKeyResults,
  context: { serverCpu: string; duration: number; warmup: number; failureLimit: string },
  targets: [string, string, boolean][],
): string[] {
  const { many, one } = results.rounds;
  const n = results.connections;
  const lines: string[] = [];
  const best = (row: Row) => fastest(many.get(row));
  const bestOne = (row: Row) => fastest(one.get(row));
  const valid = best(VALID);
  const validOne = bestOne(VALID);
  const refused = best(REFUSED);
  const refusedOne = bestOne(REFUSED);
  const revokedOne = bestOne(REVOKED);
  const cc = best(CC);
  const jwks = best(JWKS);
  if (!valid || !validOne || !refused || !refusedOne || !revokedOne || !cc || !jwks)
    return fail('the API-key section has no result');

  lines.push(
    `## API-key verification through Tollgate (PostgreSQL): \`POST /api-keys/verify\`, uncached\n`,
    `One Tollgate on PostgreSQL (LOG_LEVEL=warn, API_KEY_VERIFICATION_FAILURE_LIMIT=${context.failureLimit} so that the refused-key rows measure refusals, not the 429s the default 300/min turns them into after 300 questions). An API key issued through the admin API (\`POST /api-keys\`: the client-credentials client, scope \`es256:read\`, no expiry, no rate limit), asked about as an API's library asks: a form with \`token\` and \`audience\`, no cache in between. "Refused (well-formed, unknown)" is a made-up key with a right checksum; "refused (revoked)" a second key issued like the first, then revoked: both take the full look-up and are answered \`{"active":false}\`, and both count against the failure limit (an upsert in \`rate_limits\` each). The anchors run on the same Tollgate in the same rounds: an ES256 client-credentials token (client_secret_basic, \`resource\` + scope) and the JWKS. ${Math.max(...[...many.values()].map((r) => r.length))} alternating round(s) of ${context.duration} s after ${context.warmup} s warm-up at ${n} connections, then the same at 1 connection; the fastest round counts (all listed).\n`,
  );
  const rows: (string | number)[][] = [];
  for (const [connections, map] of [
    [n, many],
    [1, one],
  ] as const) {
    for (const row of ROWS) {
      const all = map.get(row);
      const r = fastest(all);
      if (!r || !all) continue;
      const anchor = connections === n ? valid : validOne;
      rows.push([
        row,
        connections,
        fmt(r.rps),
        all.length > 1 ? all.map((x) => fmt(x.rps)).join(' / ') : '',
        ms(r.p50),
        ms(r.p99),
        r.non2xx + r.socketErrors,
        fmt(r.perCpuSecond),
        r.cpu.postgres === undefined ? 'n/a' : `${(r.cpu.postgres / r.seconds).toFixed(2)} CPUs`,
        others(r.cpu),
        ratio(anchor.rps, r.rps),
        ratio(anchor.perCpuSecond, r.perCpuSecond),
      ]);
    }
  }
  lines.push(
    table(
      [
        'row',
        'connections',
        'req/s',
        'rounds',
        'p50 ms',
        'p99 ms',
        'non-2xx + socket errors',
        `req/CPU-s (Tollgate on CPU ${context.serverCpu})`,
        'PostgreSQL backends',
        `others on CPU ${context.serverCpu}`,
        'valid key vs this row, req/s',
        'per CPU-s',
      ],
      rows,
      '---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:',
    ),
  );
  lines.push(
    `\nThe last two columns divide the valid key's figure by the row's at the same connections: above 1× the verification is cheaper than that row. "PostgreSQL backends" is the CPU the database's backends for this database spent per second of the run (they are not pinned; Tollgate is the one core of the target).\n`,
  );
  const database = (row: Row) => {
    const d = results.database[row];
    return d
      ? `${(d.writes / d.verifications).toFixed(4)} rows written and ${(d.transactions / d.verifications).toFixed(4)} transactions per verification (${fmt(d.writes)} and ${fmt(d.transactions)} for ${fmt(d.verifications)}, warm-up included)`
      : 'n/a';
  };
  const answers = (row: Row) => {
    const a = results.answers[row];
    return a
      ? `${fmt(a.valid)} valid and ${fmt(a.invalid)} invalid for ${fmt(a.requests)} requests wrk counted`
      : 'n/a';
  };
  lines.push(
    `Database work, round 1 at ${n} connections (pg_stat_user_tables, pg_stat_database): valid key ${database(VALID)}; unknown key ${database(REFUSED)}; revoked key ${database(REVOKED)}.  `,
    `Answers, by the server's \`tollgate_api_key_verifications_total\` over every run (wrk sees only statuses; requests still in flight when wrk stops are answered too): valid-key runs ${answers(VALID)}; unknown-key runs ${answers(REFUSED)}; revoked-key runs ${answers(REVOKED)}.\n`,
    `The issue's "about the same time for each" (refusals among themselves), at 1 connection: p50 unknown ${ms(refusedOne.p50)} ms, revoked ${ms(revokedOne.p50)} ms (${ratio(revokedOne.p50, refusedOne.p50)} of unknown); p99 ${ms(refusedOne.p99)} and ${ms(revokedOne.p99)} ms. Against the valid key (${ms(validOne.p50)} ms p50, ${ms(validOne.p99)} ms p99): unknown ${ratio(refusedOne.p50, validOne.p50)} at p50; Tollgate CPU per verification at ${n} connections, unknown ${ratio(valid.perCpuSecond, refused.perCpuSecond)} and revoked ${ratio(valid.perCpuSecond, best(REVOKED)?.perCpuSecond ?? NaN)} of the valid key's.\n`,
    `Cached verification in the library (issue 17: \`verifier.verifyRequest\` with \`X-API-Key\`, cache warm, ≤ 1.5× \`verifier.verify\` of a local JWT): one process and no server, so it is a candidate of bench/verify.ts's interleaved table (the verify section), with its target in the targets table.\n`,
  );

  const validAnswers = results.answers[VALID];
  const refusals = [results.answers[REFUSED], results.answers[REVOKED]];
  targets.push(
    [
      `Uncached API-key verification on PostgreSQL: p50 ≤ ${TARGETS.p50Ms} ms (1 connection, loopback)`,
      `${ms(validOne.p50)} ms (at ${n} connections ${ms(valid.p50)} ms; client-credentials token at 1 connection ${ms(bestOne(CC)?.p50 ?? NaN)} ms)`,
      validOne.p50 <= TARGETS.p50Ms,
    ],
    [
      `Uncached API-key verification on PostgreSQL: p99 ≤ ${TARGETS.p99Ms} ms (1 connection, loopback)`,
      `${ms(validOne.p99)} ms (at ${n} connections ${ms(valid.p99)} ms)`,
      validOne.p99 <= TARGETS.p99Ms,
    ],
    [
      `Uncached API-key verification on PostgreSQL ≥ ${fmt(TARGETS.perSecond)}/s on one core (${n} connections)`,
      `${fmt(valid.rps)}/s, ${fmt(valid.perCpuSecond)} per Tollgate CPU-second (${ratio(valid.rps, cc.rps)} the same Tollgate's client-credentials tokens/s, ${ratio(valid.rps, jwks.rps)} its JWKS req/s)`,
      valid.rps >= TARGETS.perSecond,
    ],
    [
      'Every API-key verification answered as asked (valid key active, refused keys inactive, 2xx only)',
      `${answers(VALID)}; ${answers(REFUSED)}; ${answers(REVOKED)}; ${VERIFICATIONS.flatMap((row) => [...(many.get(row) ?? []), ...(one.get(row) ?? [])]).reduce((sum, r) => sum + r.non2xx + r.socketErrors, 0)} non-2xx/socket errors`,
      !!validAnswers &&
        validAnswers.invalid === 0 &&
        validAnswers.valid >= validAnswers.requests &&
        refusals.every((a) => !!a && a.valid === 0 && a.invalid >= a.requests) &&
        [...many.values(), ...one.values()].flat().every((r) => r.non2xx + r.socketErrors === 0),
    ],
  );
  return lines;
}
