/**
 * API create throughput and latency through the local HTTP front (processing off), beside two baselines on the
 * same dynalite in the same process: (a) the three DynamoDB calls a create needs, issued directly with the
 * handler's own client configuration and no handler; (b) a bare PutItem. DynamoDB round trips are counted at
 * the HTTP client, never estimated: for plain creates over every measure, and for keyed creates (each with an
 * Idempotency-Key of its own) in one measure of their own after the rounds.
 *
 * The machine may be shared, so the measures are interleaved (API, (a), (b) at each concurrency) and repeated
 * over several rounds; the parent takes medians. Each measure also records the stack process's CPU time per
 * operation, which other processes' load disturbs far less than throughput.
 */
import { join } from 'node:path';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { dueShardOf } from '../../functions/domain/provisioning-request.ts';
import { createDynamoClients } from '../../functions/platform/aws-clients.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { startProgress } from '../../infra/tools/progress.ts';
import { emitResult, runJsonChild } from '../lib/child.ts';
import { closedLoop, type LoadResult, type Measure } from '../lib/closed-loop.ts';
import { CLEAR_PIN_PATH, requestItem, SEED_BODY, SEED_LOOKUP_KEYS, SEED_TOKEN_KEY, seedRequest } from '../lib/demo.ts';
import { countRoundTrips } from '../lib/dynamo-counter.ts';
import { DUE_SHARDS } from '../lib/seed.ts';
import { round } from '../lib/stats.ts';

const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
const CONCURRENCIES = [1, 32] as const;
// BENCH_API_BASELINES=0 leaves the baselines out, e.g. to profile the API alone:
//   BENCH_API_BASELINES=0 npx node --cpu-prof --cpu-prof-dir=/tmp/prof bench/scenarios/api.ts
const BASELINES = process.env.BENCH_API_BASELINES !== '0';

const stack = await startLocalStack({ port: 0, processing: false, env: { DUE_SHARDS: String(DUE_SHARDS) } });
const counter = countRoundTrips(stack.dynamoEndpoint);
const url = `${stack.apiUrl}${CLEAR_PIN_PATH}`;
const body = JSON.stringify(SEED_BODY);
const table = stack.tableName;

/** Reads the create sequence (through the test's own client, before the count starts or after it ends). */
const createdSoFar = async (): Promise<number> => {
  const { Item } = await stack.document.send(
    new GetCommand({
      TableName: table,
      Key: { pk: keys.sequence('provisioning-request-number') },
      ConsistentRead: true,
    }),
  );
  return Number(Item?.value ?? 0);
};

/** Runs `load`, counting the stack process's CPU time and DynamoDB requests over `operations()` operations. */
const withCounts = async (load: () => Promise<LoadResult>, operations?: () => Promise<number>): Promise<Measure> => {
  const cpuBefore = process.cpuUsage();
  counter.reset();
  const result = await load();
  // Let requests still in flight when the load generator stopped finish, so their round trips are all counted.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const roundTrips = counter.total();
  const sequential = counter.waves();
  const byOperation = counter.byOperation();
  const cpu = process.cpuUsage(cpuBefore);
  const done = operations ? await operations() : result.requests;
  return {
    ...result,
    operations: done,
    round_trips: roundTrips,
    round_trips_per_op: round(roundTrips / done, 3),
    sequential_round_trips: sequential,
    cpu_ms_per_op: round((cpu.user + cpu.system) / 1000 / done, 3),
    by_operation: byOperation,
  };
};

const httpLoad = async (connections: number, seconds: number, mode: 'plain' | 'keyed' = 'plain'): Promise<Measure> => {
  const before = await createdSoFar();
  const measure = await withCounts(
    () =>
      runJsonChild<LoadResult>(join(import.meta.dirname, 'http-load.ts'), {
        args: [url, String(connections), String(seconds), body, mode],
      }),
    // Every create takes one number, so the sequence counts the creates the handler ran, answered or not.
    async () => (await createdSoFar()) - before,
  );
  if (measure.errors > 0) throw new Error(`API load had failures: ${JSON.stringify(measure)}`);
  return measure;
};

// The shape check: the baseline (and the seeding of the processing scenarios) writes exactly the attributes a
// real create writes.
const created = (await (
  await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
).json()) as { data: { id: string } };
const written = await stack.document.send(
  new GetCommand({ TableName: table, Key: { pk: keys.request(created.data.id) } }),
);
const baselineItem = (number: string) => {
  const request = seedRequest(number, new Date());
  return requestItem(request, {
    shard: dueShardOf(request.id, request.priority, DUE_SHARDS),
    at: new Date(request.scheduledAt),
  });
};
const writtenKeys = Object.keys(written.Item ?? {})
  .sort()
  .join(',');
const baselineKeys = Object.keys(baselineItem('0')).sort().join(',');
if (writtenKeys !== baselineKeys) {
  throw new Error(
    `The baseline item no longer matches a created request:\n api:   ${writtenKeys}\n bench: ${baselineKeys}`,
  );
}

// The same client construction as the handler (timeouts, retries, marshalling), on the same dynalite.
const { document } = createDynamoClients();

/**
 * Baseline (a): a create's DynamoDB calls, in the handler's order, with nothing around them: the token; the
 * look-ups beside the number; the put.
 */
const createCalls = async () => {
  await document.send(new GetCommand({ TableName: table, Key: { pk: SEED_TOKEN_KEY }, ConsistentRead: true }));
  const [, { Attributes }] = await Promise.all([
    document.send(
      new BatchGetCommand({
        RequestItems: { [table]: { Keys: SEED_LOOKUP_KEYS.map((pk) => ({ pk })), ConsistentRead: true } },
      }),
    ),
    document.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: keys.sequence('bench-baseline') },
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    ),
  ]);
  await document.send(
    new PutCommand({
      TableName: table,
      Item: baselineItem(String(Attributes?.value)),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
};

/** Baseline (b): one PutItem of the same item. */
const barePut = () => document.send(new PutCommand({ TableName: table, Item: baselineItem('0') }));

const directLoad = (operation: () => Promise<unknown>, concurrency: number) =>
  withCounts(() => closedLoop(operation, { concurrency, durationMs: SECONDS * 1000 }));

/** The token's last use, as the create reads it (a touch moves it). */
const tokenLastUsed = async (): Promise<unknown> =>
  (
    await stack.document.send(
      new GetCommand({ TableName: table, Key: { pk: SEED_LOOKUP_KEYS[0] }, ConsistentRead: true }),
    )
  ).Item?.lastUsedAt;

/**
 * Keyed creates, counted like the plain ones. The token's touch (at most once a minute per token, beside the
 * create's own calls, and not one of its round trips) cannot be told from the keyed create's own UpdateItems on
 * the wire, so the token is marked used just before: no touch is due within the measure, which the scenario
 * checks afterwards.
 */
const keyedLoad = async (connections: number, seconds: number): Promise<Measure> => {
  if (seconds > 50) throw new Error('A keyed measure must end within the minute that needs no token touch');
  await stack.document.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: SEED_LOOKUP_KEYS[0] },
      UpdateExpression: 'SET lastUsedAt = :now',
      ExpressionAttributeValues: { ':now': new Date().toISOString() },
    }),
  );
  const lastUsed = await tokenLastUsed();
  const measure = await httpLoad(connections, seconds, 'keyed');
  if ((await tokenLastUsed()) !== lastUsed) throw new Error('The token was touched during the keyed measure');
  return measure;
};

const KEYED_CONCURRENCY = 1;
const WARM_UP_SECONDS = 2 + (BASELINES ? 1.5 : 0);
const measuresPerRound = CONCURRENCIES.length * (BASELINES ? 3 : 1);
const line = startProgress('api', WARM_UP_SECONDS + (ROUNDS * measuresPerRound + 1) * SECONDS, 's');

await line.during('warm-up (JIT, connections)', WARM_UP_SECONDS, async () => {
  await httpLoad(8, 2);
  if (BASELINES) {
    await closedLoop(createCalls, { concurrency: 8, durationMs: 1000 });
    await closedLoop(barePut, { concurrency: 8, durationMs: 500 });
  }
});

type Round = Record<'api' | 'baseline_roundtrips' | 'baseline_put', Record<string, Measure>>;
const rounds: Round[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  const round: Round = { api: {}, baseline_roundtrips: {}, baseline_put: {} };
  for (const c of CONCURRENCIES) {
    const phase = (what: string) => `round ${r}/${ROUNDS}, c=${c}: ${what}`;
    round.api[`c${c}`] = await line.during(phase('create'), SECONDS, () => httpLoad(c, SECONDS));
    if (!BASELINES) continue;
    round.baseline_roundtrips[`c${c}`] = await line.during(phase('baseline (a)'), SECONDS, () =>
      directLoad(createCalls, c),
    );
    round.baseline_put[`c${c}`] = await line.during(phase('baseline (b)'), SECONDS, () => directLoad(barePut, c));
  }
  rounds.push(round);
}
const keyed = await line.during(`keyed create, c=${KEYED_CONCURRENCY}`, SECONDS, () =>
  keyedLoad(KEYED_CONCURRENCY, SECONDS),
);
line.stop();

document.destroy();
counter.stop();
await stack.stop();
emitResult({ seconds_per_measure: SECONDS, rounds, keyed });
