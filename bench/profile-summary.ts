/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) as Markdown tables: self time by area (a
 * package under node_modules, a Tollgate source file, a node: module, GC), self time by function,
 * and inclusive time by function for request-handling code — where a request's time goes.
 *
 *   node bench/profile-summary.ts FILE.cpuprofile [--requests N] [--window FROM,TO] [--top 20]
 *        [--compare OTHER.cpuprofile --compare-requests M --compare-window FROM,TO --label A --compare-label B]
 *
 * --window FROM,TO keeps the samples taken between FROM and TO milliseconds before the end of the
 * profile (the load phase, not start-up); --requests N, the requests served in that window, turns
 * times into µs per request. --compare puts a second profile's areas beside the first's.
 * bench/run.ts --profile runs it on the profiles it records.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '20' },
    requests: { type: 'string' },
    window: { type: 'string' },
    compare: { type: 'string' },
    'compare-requests': { type: 'string' },
    'compare-window': { type: 'string' },
    label: { type: 'string', default: 'this' },
    'compare-label': { type: 'string', default: 'other' },
  },
});
const file =
  positionals[0] ??
  (process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [--requests N] [--window FROM,TO]\n'),
  process.exit(2));
const TOP = Number(values.top) || 20;

function area(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:.*node_modules\/((?:@[^/]+\/)?[^/]+)\/)?/.exec(url);
  if (pkg) return pkg[2] ?? pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  const own = /\/(dist\/src|packages\/[^/]+\/dist)\/(.*)$/.exec(url);
  if (own) return `tollgate ${own[2]!.replace(/\.js$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

interface Summary {
  windowMs: number;
  busyMs: number;
  selfByArea: Map<string, number>;
  selfByFunction: Map<string, number>;
  inclusive: Map<string, number>;
}

function summarise(profileFile: string, window: string | undefined): Summary {
  const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as CpuProfile;
  const [fromEnd, toEnd] = window ? (window.split(',').map(Number) as [number, number]) : [Infinity, 0];
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const selfMs = new Map<number, number>();
  let t = profile.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const msBeforeEnd = (profile.endTime - t) / 1000;
    if (msBeforeEnd > fromEnd || msBeforeEnd < toEnd) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    // timeDeltas[i] is the time since the previous sample: it belongs to sample i.
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  }
  const key = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'} ${area(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
  const summary: Summary = {
    windowMs: (last - first) / 1000,
    busyMs: 0,
    selfByArea: new Map(),
    selfByFunction: new Map(),
    inclusive: new Map(),
  };
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (!ms) continue;
    const a = area(node.callFrame);
    summary.selfByArea.set(a, (summary.selfByArea.get(a) ?? 0) + ms);
    summary.selfByFunction.set(key(node), (summary.selfByFunction.get(key(node)) ?? 0) + ms);
    // Inclusive: every distinct function on this sample's stack, once.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const k = key(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      summary.inclusive.set(k, (summary.inclusive.get(k) ?? 0) + ms);
    }
  }
  summary.busyMs = [...summary.selfByArea.entries()]
    .filter(([k]) => k !== '(idle)')
    .reduce((sum, [, ms]) => sum + ms, 0);
  return summary;
}

const main = summarise(file, values.window);
const requests = values.requests ? Number(values.requests) : undefined;
const perRequest = (ms: number, n = requests) => (n ? `${((ms * 1000) / n).toFixed(1)}` : '');
const pct = (ms: number, busy = main.busyMs) => `${((ms / busy) * 100).toFixed(1)} %`;
const top = (map: Map<string, number>, n: number, keep: (k: string) => boolean = () => true) =>
  [...map.entries()]
    .filter(([k]) => keep(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
const requestCode = (k: string) =>
  /tollgate |koa|oidc-provider|@koa|pino|knex|\bpg\b|jose|node:http|node:crypto/.test(k) &&
  !/^\(|^processTicksAndRejections|^runMicrotasks|^emit |^parserOnIncoming|^dispatch |^handleRequest /.test(k);
const unit = requests ? ' | µs/request' : '';
const unitAlign = requests ? '|---:' : '';

const out: string[] = [
  `Profile \`${path.basename(file)}\`${values.window ? ' (load window)' : ''}: ${main.windowMs.toFixed(0)} ms sampled, ${main.busyMs.toFixed(0)} ms busy (${((main.busyMs / main.windowMs) * 100).toFixed(0)} % of the window)${requests ? `, ${requests} requests: ${perRequest(main.busyMs)} µs of CPU per request` : ''}; shares are of busy time.`,
  '',
];
if (values.compare) {
  const other = summarise(values.compare, values['compare-window']);
  const otherRequests = Number(values['compare-requests']) || undefined;
  const a = values.label!;
  const b = values['compare-label']!;
  const areas = new Set([...main.selfByArea.keys(), ...other.selfByArea.keys()]);
  areas.delete('(idle)');
  const rows = [...areas]
    .map((k) => {
      const mine = ((main.selfByArea.get(k) ?? 0) * 1000) / (requests ?? 1);
      const theirs = ((other.selfByArea.get(k) ?? 0) * 1000) / (otherRequests ?? 1);
      return { k, mine, theirs, delta: mine - theirs };
    })
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
  const total = { mine: (main.busyMs * 1000) / (requests ?? 1), theirs: (other.busyMs * 1000) / (otherRequests ?? 1) };
  out.push(
    `| self time by area, µs per request | ${a} | ${b} | difference |`,
    '|---|---:|---:|---:|',
    `| **all busy time** | **${total.mine.toFixed(1)}** | **${total.theirs.toFixed(1)}** | **${total.mine - total.theirs >= 0 ? '+' : ''}${(total.mine - total.theirs).toFixed(1)}** |`,
    ...rows
      .slice(0, TOP)
      .map(
        (r) =>
          `| ${r.k} | ${r.mine.toFixed(1)} | ${r.theirs.toFixed(1)} | ${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(1)} |`,
      ),
    '',
  );
}
out.push(
  `| self time by area | ms | share${unit} |`,
  `|---|---:|---:${unitAlign}|`,
  ...top(main.selfByArea, TOP, (k) => k !== '(idle)').map(
    ([k, ms]) => `| ${k} | ${ms.toFixed(0)} | ${pct(ms)}${requests ? ` | ${perRequest(ms)}` : ''} |`,
  ),
  '',
  `| self time by function | ms | share${unit} |`,
  `|---|---:|---:${unitAlign}|`,
  ...top(main.selfByFunction, TOP, (k) => !k.startsWith('(idle)')).map(
    ([k, ms]) => `| \`${k}\` | ${ms.toFixed(0)} | ${pct(ms)}${requests ? ` | ${perRequest(ms)}` : ''} |`,
  ),
  '',
  `| inclusive time by function (request handling) | ms | share${unit} |`,
  `|---|---:|---:${unitAlign}|`,
  ...top(main.inclusive, TOP + 10, requestCode).map(
    ([k, ms]) => `| \`${k}\` | ${ms.toFixed(0)} | ${pct(ms)}${requests ? ` | ${perRequest(ms)}` : ''} |`,
  ),
);
console.log(out.join('\n'));
