/**
 * `npm run bench`: every scenario in a fresh child process (handler modules read their environment at import
 * time), one after the other so none competes with another for the machine's cores. Prints a table and writes
 * bench/results.json. Separate from `npm test`: figures, not pass/fail (the exit code is 0 even when a target
 * is missed; it is non-zero only when a scenario fails).
 *
 * `npm run bench -- --profile` runs each scenario under `--cpu-prof` and writes a self-time summary per scenario
 * (by package, and the hottest functions) to bench/profile-summary.txt; profiling slows everything down, so that
 * run leaves results.json alone.
 */
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCharts } from './lib/charts.ts';
import { BENCH_DIR, runJsonChild } from './lib/child.ts';
import type { Measure } from './lib/closed-loop.ts';
import { type ProfileSummary, profileReport, summarizeProfile } from './lib/profile-summary.ts';
import { machineInfo, median, round } from './lib/stats.ts';
import { TARGETS } from './lib/targets.ts';

const started = performance.now();
const PROFILE = process.argv.includes('--profile');
const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'clear-pin-profiles-')) : '';
const profiles: Record<string, ProfileSummary> = {};
const scenarioSeconds: Record<string, number> = {};
const scenario = async <T>(name: string): Promise<T> => {
  process.stderr.write(`\n▶ ${name}\n`);
  const t0 = performance.now();
  const dir = join(profileDir, name);
  const result = await runJsonChild<T>(join(BENCH_DIR, 'scenarios', `${name}.ts`), {
    nodeOptions: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [],
  });
  scenarioSeconds[name] = round((performance.now() - t0) / 1000, 1);
  const [file] = PROFILE ? readdirSync(dir) : [];
  if (file) profiles[name] = summarizeProfile(join(dir, file));
  return result;
};
const load = () => loadavg().map((n) => round(n, 2));
const loadBefore = load();

type Bundle = { bytes: number; import_ms: number; import_ms_without_source_maps: number; process_ms: number };
type Bundles = {
  hello_import_ms: number;
  hello_process_ms: number;
  floor_bytes: number;
  floor_import_ms: number;
  floor: Bundle;
  floor_default_chain: Bundle;
  sdk_hello: Bundle;
  api: Bundle;
  worker: Bundle;
  processing_run: Bundle;
} & Record<string, unknown>;
type Kind = 'api' | 'baseline_roundtrips' | 'baseline_put';
type Rounds = { seconds_per_measure: number; rounds: Record<Kind, Record<string, Measure>>[]; keyed: Measure };
type PageSide = { p50_ms: number; p90_ms: number; requests_per_page: number; results: number };
type ListPages = {
  sizes: number[];
  offsets: number[];
  page_size: number;
  pages_per_point: number;
  points: Record<string, { service: PageSide; baseline: PageSide; p50_ratio_to_baseline: number }>;
  ratio_to_baseline_largest_to_smallest_table: Record<string, number>;
};
type Drain = {
  requests: number;
  headend_rate_cap_per_s: number;
  drain_s: number;
  ideal_s: number;
  done_curve: { t_s: number; done: number }[];
} & Record<string, unknown>;

const validation = await scenario<Record<string, number>>('validation');
const bundles = await scenario<Bundles>('bundles');
const apiRounds = await scenario<Rounds>('api');
const findDue = await scenario<Record<string, unknown>>('find-due');
const drain = await scenario<Drain>('processing');
const list = await scenario<ListPages>('list');

/** The median over rounds of each figure of one measure (rps, p50, p99 and each point of the distribution). */
const medianOf = (kind: Kind, c: string) => {
  const runs = apiRounds.rounds.map((r) => r[kind][c] as Measure);
  const pick = (key: 'rps' | 'p50_ms' | 'p99_ms' | 'cpu_ms_per_op' | 'round_trips_per_op' | 'requests') =>
    round(median(runs.map((m) => m[key])), key === 'rps' ? 1 : 3);
  const points = Object.keys(runs[0]?.latency_percentiles_ms ?? {});
  return {
    rps: pick('rps'),
    p50_ms: pick('p50_ms'),
    p99_ms: pick('p99_ms'),
    requests: runs.reduce((sum, m) => sum + m.requests, 0),
    cpu_ms_per_op: pick('cpu_ms_per_op'),
    round_trips_per_op: pick('round_trips_per_op'),
    rps_by_round: runs.map((m) => m.rps),
    p99_ms_by_round: runs.map((m) => m.p99_ms),
    latency_percentiles_ms: Object.fromEntries(
      points.map((p) => [p, round(median(runs.map((m) => m.latency_percentiles_ms[p] as number)), 3)]),
    ),
  };
};
/** The median over rounds of a per-round ratio of the API to baseline (a), so both come from the same round. */
const ratioOf = (c: string, ratio: (api: Measure, base: Measure) => number) =>
  round(median(apiRounds.rounds.map((r) => ratio(r.api[c] as Measure, r.baseline_roundtrips[c] as Measure))), 3);
// For CPU the ratio is inverted, so both read "API throughput as a share of the baseline's".
const throughputShare = (api: Measure, base: Measure) => api.rps / base.rps;
const cpuShare = (api: Measure, base: Measure) => base.cpu_ms_per_op / api.cpu_ms_per_op;
const p99Ratio = (api: Measure, base: Measure) => api.p99_ms / base.p99_ms;

// Every create sends a GetItem (the token), then a BatchGetItem beside an UpdateItem ADD (the number) and, at most
// once a minute per token, the token's touch (another UpdateItem), then a PutItem. Requests are counted at every
// concurrency; the round trips on the latency path (requests sent while none was in flight) at concurrency 1,
// where one create runs at a time.
const apiMeasures = apiRounds.rounds.flatMap((r) => Object.values(r.api));
const total = (pick: (m: Measure) => number, measures = apiMeasures) => measures.reduce((sum, m) => sum + pick(m), 0);
const creates = total((m) => m.operations);
const tokenTouches = total((m) => m.by_operation.UpdateItem ?? 0) - creates;
const requestsPerCreate = round(total((m) => m.round_trips) / creates, 4);
const c1Measures = apiRounds.rounds.map((r) => r.api.c1 as Measure);
const roundTripsPerCreate = round(
  total((m) => m.sequential_round_trips, c1Measures) / total((m) => m.operations, c1Measures),
  4,
);
const { keyed } = apiRounds;
const roundTripsPerKeyedCreate = round(keyed.sequential_round_trips / keyed.operations, 4);
const api32 = medianOf('api', 'c32');
const a32 = medianOf('baseline_roundtrips', 'c32');
const b32 = medianOf('baseline_put', 'c32');

const results = {
  machine: { ...machineInfo(), load_average_before: loadBefore, load_average_after: load() },
  command: 'npm run bench',
  runtime_s: 0,
  scenario_seconds: scenarioSeconds,
  api: {
    concurrency: 32,
    requests: api32.requests,
    rps: api32.rps,
    p50_ms: api32.p50_ms,
    p99_ms: api32.p99_ms,
    baseline_roundtrips_rps: a32.rps,
    baseline_roundtrips_p99_ms: a32.p99_ms,
    baseline_put_rps: b32.rps,
    dynamodb_round_trips_per_create: roundTripsPerCreate,
    dynamodb_requests_per_create: requestsPerCreate,
    dynamodb_round_trips_per_keyed_create: roundTripsPerKeyedCreate,
    token_touches: tokenTouches,
    creates_counted: creates,
    throughput_share_of_baseline: ratioOf('c32', throughputShare),
    cpu_share_of_baseline: ratioOf('c32', cpuShare),
    p99_ratio_to_baseline: ratioOf('c32', p99Ratio),
    seconds_per_measure: apiRounds.seconds_per_measure,
    rounds: apiRounds.rounds.length,
    c32: { api: api32, baseline_roundtrips: a32, baseline_put: b32 },
    c1: {
      api: medianOf('api', 'c1'),
      baseline_roundtrips: medianOf('baseline_roundtrips', 'c1'),
      baseline_put: medianOf('baseline_put', 'c1'),
      throughput_share_of_baseline: ratioOf('c1', throughputShare),
    },
    requests_by_operation: Object.fromEntries(
      ['GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem'].map((op) => [op, total((m) => m.by_operation[op] ?? 0)]),
    ),
    keyed_create: {
      concurrency: keyed.concurrency,
      creates_counted: keyed.operations,
      rps: keyed.rps,
      p50_ms: keyed.p50_ms,
      p99_ms: keyed.p99_ms,
      requests_by_operation: keyed.by_operation,
    },
  },
  bundles,
  processing: { ...drain, find_and_hand_on: findDue },
  list,
  validation,
};

const KB = 1000;
const functions = ['api', 'worker', 'processing_run'] as const;
const percent = (share: number) => `${round(share * 100, 1)} %`;
const times = (ratio: number) => `${round(ratio, 2)}×`;
const targets = [
  {
    target: `create throughput at c=32 ≥ ${percent(TARGETS.throughputShare)} of baseline (a)`,
    value: `${api32.rps} rps: ${percent(results.api.throughput_share_of_baseline)} (by CPU time ${percent(results.api.cpu_share_of_baseline)})`,
    baseline: `(a) ${a32.rps} rps`,
    met: results.api.throughput_share_of_baseline >= TARGETS.throughputShare,
  },
  {
    target: `create p99 at c=32 ≤ ${TARGETS.p99ToBaseline}× baseline (a)'s p99`,
    value: `${api32.p99_ms} ms: ${times(results.api.p99_ratio_to_baseline)}`,
    baseline: `(a) ${a32.p99_ms} ms`,
    met: results.api.p99_ratio_to_baseline <= TARGETS.p99ToBaseline,
  },
  {
    target: `DynamoDB round trips per plain create ≤ ${TARGETS.roundTrips}`,
    value: `${roundTripsPerCreate} (${requestsPerCreate} requests, ${tokenTouches} token touches)`,
    baseline: '(a) 3',
    met: roundTripsPerCreate <= TARGETS.roundTrips,
  },
  {
    target: `DynamoDB round trips per keyed create ≤ ${TARGETS.keyedRoundTrips}`,
    value: `${roundTripsPerKeyedCreate} (${round(keyed.round_trips / keyed.operations, 4)} requests; ${keyed.operations} creates with an Idempotency-Key)`,
    baseline: '(a) 3',
    met: roundTripsPerKeyedCreate <= TARGETS.keyedRoundTrips,
  },
  ...functions.map((f) => ({
    target: `${f} bundle ≤ ${TARGETS.bundleKb[f]} KB`,
    value: `${round(bundles[f].bytes / KB, 1)} KB`,
    baseline: `floor ${round(bundles.floor_bytes / KB, 1)} KB`,
    met: bundles[f].bytes <= TARGETS.bundleKb[f] * KB,
  })),
  ...functions.map((f) => ({
    target: `${f} import ≤ ${TARGETS.importToFloor}× the floor's`,
    value: `${bundles[f].import_ms} ms: ${times(bundles[f].import_ms / bundles.floor_import_ms)}`,
    baseline: `floor ${bundles.floor_import_ms} ms`,
    met: bundles[f].import_ms <= TARGETS.importToFloor * bundles.floor_import_ms,
  })),
  ...list.offsets.map((offset) => {
    const [smallest, largest] = [list.sizes[0], list.sizes.at(-1)];
    const ratio = list.ratio_to_baseline_largest_to_smallest_table[`offset_${offset}`] ?? Number.NaN;
    const at = (size: number | undefined) => list.points[`rows_${size}_offset_${offset}`];
    const share = (size: number | undefined) =>
      `${at(size)?.service.p50_ms} ms, ${times(at(size)?.p50_ratio_to_baseline ?? Number.NaN)} its baseline`;
    return {
      target: `list page at offset ${offset}, p50 ÷ baseline: over ${largest} requests ≤ ${TARGETS.listFlat}× over ${smallest}`,
      value: `${share(largest)}: ${times(ratio)}`,
      baseline: share(smallest),
      met: ratio <= TARGETS.listFlat,
    };
  }),
  {
    target: `drain of ${drain.requests} ≤ ${TARGETS.drainToIdeal}× ideal`,
    value: `${drain.drain_s} s: ${times(drain.drain_s / drain.ideal_s)}`,
    baseline: `ideal ${drain.ideal_s} s`,
    met: drain.drain_s <= TARGETS.drainToIdeal * drain.ideal_s,
  },
];
results.runtime_s = round((performance.now() - started) / 1000, 1);
const resultsFile = PROFILE ? 'profile-summary.txt' : 'results.json';
let charts: string[] = [];
if (PROFILE) {
  writeFileSync(join(BENCH_DIR, resultsFile), profileReport(profiles));
  rmSync(profileDir, { recursive: true, force: true });
} else {
  // Through a temporary file, so that an interrupted write never leaves a truncated results.json.
  const file = join(BENCH_DIR, resultsFile);
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ ...results, targets }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  charts = await writeCharts(results, join(BENCH_DIR, 'charts'));
}

const c1 = results.api.c1;
const floor = `floor ${bundles.floor_bytes} B / ${bundles.floor_import_ms} ms`;
const row = (what: string, value: string | number, baseline: string | number = '') => ({ what, value, baseline });
console.log(
  `\nclear-PIN benchmarks — ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`,
);
console.table([
  row(
    'create c=1: rps / p50 / p99',
    `${c1.api.rps} / ${c1.api.p50_ms} / ${c1.api.p99_ms} ms`,
    `(a) ${c1.baseline_roundtrips.rps} / ${c1.baseline_roundtrips.p50_ms} / ${c1.baseline_roundtrips.p99_ms} ms`,
  ),
  row(
    'create c=32: rps / p50 / p99',
    `${api32.rps} / ${api32.p50_ms} / ${api32.p99_ms} ms`,
    `(a) ${a32.rps} / ${a32.p50_ms} / ${a32.p99_ms} ms`,
  ),
  row('bare PutItem rps c=1 / c=32', '', `(b) ${c1.baseline_put.rps} / ${b32.rps}`),
  row('CPU ms per create c=32', api32.cpu_ms_per_op, `(a) ${a32.cpu_ms_per_op}`),
  row('DynamoDB round trips per create', `${roundTripsPerCreate} (${requestsPerCreate} requests)`, '3 (a)'),
  row('DynamoDB round trips per keyed create', roundTripsPerKeyedCreate, '3 (a)'),
  ...functions.map((f) =>
    row(
      `${f} bundle bytes / import ms (without source maps)`,
      `${bundles[f].bytes} / ${bundles[f].import_ms} (${bundles[f].import_ms_without_source_maps})`,
      `${floor} (${bundles.floor.import_ms_without_source_maps})`,
    ),
  ),
  row(
    'floor with the default credential chain',
    `${bundles.floor_default_chain.bytes} / ${bundles.floor_default_chain.import_ms}`,
    `hello ${bundles.hello_import_ms} ms`,
  ),
  row(`drain ${drain.requests} at ${drain.headend_rate_cap_per_s}/s`, `${drain.drain_s} s`, `ideal ${drain.ideal_s} s`),
  row('find + hand on (processDue)', `${findDue.find_and_hand_on_s} s`, `${findDue.per_second}/s`),
  ...Object.entries(list.points).map(([point, { service, baseline }]) =>
    row(
      `list ${point.replaceAll('_', ' ')}: p50 / p90 ms (requests)`,
      `${service.p50_ms} / ${service.p90_ms} (${service.requests_per_page})`,
      `1 Query + 1 BatchGetItem: ${baseline.p50_ms} / ${baseline.p90_ms} (${baseline.requests_per_page})`,
    ),
  ),
  row('parseClearPinBody µs (seed / all fields)', `${validation.seed_body_us} / ${validation.all_fields_us}`),
]);
console.table(targets.map((t) => ({ ...t, met: t.met ? 'met' : 'MISSED' })));
console.log(`load average before ${loadBefore.join(' ')}, after ${results.machine.load_average_after.join(' ')}`);
console.log(
  `runtime ${results.runtime_s} s — written to bench/${resultsFile}${charts.length ? ` and ${charts.length} charts in bench/charts/` : ''}`,
);
