/**
 * Drain: N PENDING requests fall due within one second; the local stack's processing-run timer and SQS poller
 * (the deployed worker code) carry them to the headend simulator, with the worker capped at R calls/s. Timed
 * from the first due time until the due index is empty (no request left PENDING), beside the ideal N / R.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { note, startProgress } from '../../infra/tools/progress.ts';
import { emitResult } from '../lib/child.ts';
import { countRoundTrips } from '../lib/dynamo-counter.ts';
import { DUE_SHARDS, noneDueBefore, requestStates, seedDueRequests } from '../lib/seed.ts';
import { round } from '../lib/stats.ts';

const COUNT = Number(process.env.BENCH_DRAIN_REQUESTS ?? 10_000);
// Below what the single-process local stack sustains on a 2-core machine (~8 ms of CPU per request: four
// DynamoDB writes and the SQS traffic, with dynalite and fauxqs in the same process), so the drain measures
// whether the pipeline keeps the headend at its cap, not how fast dynalite is. See docs/performance.md.
const RATE = Number(process.env.BENCH_HEADEND_RATE ?? 100);
const CONCURRENCY = Number(process.env.BENCH_HEADEND_CONCURRENCY ?? 20);
const TIMER_MS = 1_000;

const stack = await startLocalStack({
  port: 0,
  processing: true,
  processingIntervalMs: TIMER_MS,
  env: {
    DUE_SHARDS: String(DUE_SHARDS),
    HEADEND_MAX_PER_SECOND: String(RATE),
    HEADEND_MAX_CONCURRENCY: String(CONCURRENCY),
    // The deployed default. The local stack's 15 s (short, for the crash-recovery tests) is shorter than this
    // backlog takes, so every 15 s the run would hand the whole remaining backlog on again.
    LEASE_SECONDS: process.env.BENCH_LEASE_SECONDS ?? '120',
    // As a stage derives it (headend rate × schedule period), with twice the room because the local timer's period
    // is 1 s plus the run's own time: the queue stays fed, and the run does not flood the shared process at once.
    DISPATCH_LIMIT_PER_RUN: String((2 * RATE * TIMER_MS) / 1000),
  },
});

// Seeding must end before the requests fall due, or the drain would share the process with the seeding.
// Calibrate on a few hundred requests due far ahead (never handed on, and not counted), then place the due
// instant after the expected end of seeding.
const calibrationStart = performance.now();
await seedDueRequests(stack.document, stack.tableName, {
  count: 300,
  dueAt: new Date(Date.now() + 30 * 24 * 3600_000),
  firstNumber: 9_000_000,
});
const perRequestMs = (performance.now() - calibrationStart) / 300;
const dueAt = new Date(Date.now() + Math.ceil(perRequestMs * COUNT * 1.5) + 2_000);
note(`seeding ${COUNT} requests due at ${dueAt.toISOString()}`);
const seeding = startProgress('processing: seed', COUNT, 'requests');
await seedDueRequests(stack.document, stack.tableName, { count: COUNT, dueAt, onWritten: (n) => seeding.update(n) });
seeding.stop();
const seedOverran = Date.now() > dueAt.getTime();
await sleep(Math.max(0, dueAt.getTime() - Date.now()));

note(`draining at most ${RATE}/s (ideal ${COUNT / RATE} s)`);
const draining = startProgress('processing: drain', COUNT, 'executed');
const dynamoCalls = countRoundTrips(stack.dynamoEndpoint);
// These counts include the bench's own looks: GetQueueAttributes for the timeline (an operation of its own) and
// the few due-index Queries at the end (among the processing run's Queries).
const sqsCalls = countRoundTrips(stack.sqsEndpoint);
const cpuBefore = process.cpuUsage();
const started = dueAt.getTime();
/** Every 5 s: headend executions, messages in the work queue (waiting or in flight), DynamoDB requests so far. */
const timeline: { t_s: number; executions: number; queued: number; dynamodb_requests: number }[] = [];
/** Every second: headend executions (requests done) since the first due time, for bench/charts/drain.svg. */
const doneCurve: { t_s: number; done: number }[] = [{ t_s: 0, done: 0 }];
const queued = async () => {
  const { Attributes } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
};
let firstCallAt: number | undefined;
let lastSample = 0;
while (stack.headend.totalExecutions() < COUNT) {
  await sleep(50);
  const now = Date.now();
  const executions = stack.headend.totalExecutions();
  draining.update(executions, 'headend executions');
  if (firstCallAt === undefined && stack.headend.callsReceived() > 0) firstCallAt = now;
  if (now - started >= doneCurve.length * 1000)
    doneCurve.push({ t_s: round((now - started) / 1000, 1), done: executions });
  if (now - lastSample >= 5_000) {
    lastSample = now;
    timeline.push({
      t_s: round((now - started) / 1000, 1),
      executions: stack.headend.totalExecutions(),
      queued: await queued(),
      dynamodb_requests: dynamoCalls.total(),
    });
  }
  if (now - started > 20 * (COUNT / RATE) * 1000) throw new Error('The drain did not finish in 20× the ideal time');
}
const lastExecutionAt = Date.now();
draining.update(COUNT, 'the last completions');
// The last executions still write COMPLETED back; the drain ends when nothing is PENDING.
// (A request handed on or leased is due again within minutes; the calibration requests are due in a month.)
const cutoff = new Date(Date.now() + 24 * 3600_000);
while (!(await noneDueBefore(stack.document, stack.tableName, cutoff))) await sleep(50);
const drainedAt = Date.now();
draining.stop();
doneCurve.push({ t_s: round((drainedAt - started) / 1000, 1), done: COUNT });
const cpu = process.cpuUsage(cpuBefore);
dynamoCalls.stop();
sqsCalls.stop();

const states = await requestStates(stack.document, stack.tableName);
const result = {
  requests: COUNT,
  headend_rate_cap_per_s: RATE,
  headend_max_concurrency: CONCURRENCY,
  processing_interval_ms: TIMER_MS,
  drain_s: round((drainedAt - started) / 1000),
  ideal_s: round(COUNT / RATE),
  first_headend_call_after_s: round(((firstCallAt ?? started) - started) / 1000),
  last_execution_after_s: round((lastExecutionAt - started) / 1000),
  achieved_rate_per_s: round(COUNT / ((lastExecutionAt - (firstCallAt ?? started)) / 1000), 1),
  headend_calls: stack.headend.callsReceived(),
  headend_executions: stack.headend.totalExecutions(),
  max_executions_per_request: stack.headend.maxExecutionsPerTransaction(),
  headend_max_in_flight: stack.headend.maxInFlight(),
  // Everything (dynalite, fauxqs, the simulator, the run and the worker) shares this one process.
  cpu_ms_per_request: round((cpu.user + cpu.system) / 1000 / COUNT, 2),
  dynamodb_calls: dynamoCalls.byOperation(),
  sqs_calls: sqsCalls.byOperation(),
  // The seeded requests plus the 300 calibration requests, which stay PENDING far ahead.
  final_states: states,
  all_completed_once:
    states.COMPLETED === COUNT &&
    states.PENDING === 300 &&
    stack.headend.totalExecutions() === COUNT &&
    stack.headend.maxExecutionsPerTransaction() === 1,
  seed_overran_due_time: seedOverran,
  timeline,
  done_curve: doneCurve,
};
await stack.stop();
emitResult(result);
