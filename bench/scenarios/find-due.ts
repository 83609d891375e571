/**
 * The processing run's own cost: how long `processDue` takes to find N due requests in the due index, mark each
 * handed on (a conditional UpdateItem) and send their ids to a fresh, empty work queue — with the SDK clients
 * the deployed function builds, and no worker draining the queue. dynalite and fauxqs run in a process of their
 * own, as DynamoDB and SQS are remote to the Lambda (in one process the 400 requests the run keeps in flight
 * queue behind dynalite's own work on the same event loop).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDueIndex } from '../../functions/adapters/dynamo/due-index.ts';
import { createWorkQueue } from '../../functions/adapters/work-queue.ts';
import { createDynamoClients, createSqsClient } from '../../functions/platform/aws-clients.ts';
import { logger, metrics } from '../../functions/platform/observability.ts';
import { processDue } from '../../functions/use-cases/process-due.ts';
import { LOCAL_AWS_ENV } from '../../infra/local/services.ts';
import { startProgress } from '../../infra/tools/progress.ts';
import { emitResult } from '../lib/child.ts';
import { countRoundTrips } from '../lib/dynamo-counter.ts';
import { DUE_SHARDS, seedDueRequests } from '../lib/seed.ts';
import { startServicesProcess } from '../lib/services-process.ts';
import { round } from '../lib/stats.ts';

const COUNT = Number(process.env.BENCH_DRAIN_REQUESTS ?? 10_000);
// The processing run's defaults (functions/processing-run/environment.ts): one page of the due index per query.
const PAGE_SIZE = 100;
const BUDGET_MS = 45_000;

const TABLE = 'bench-find-due';
const services = await startServicesProcess(TABLE);
Object.assign(process.env, {
  ...LOCAL_AWS_ENV,
  AWS_ENDPOINT_URL_DYNAMODB: services.dynamoEndpoint,
  AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
});

const seeder = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: services.dynamoEndpoint, region: LOCAL_AWS_ENV.AWS_REGION }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const seeding = startProgress('find-due: seed', COUNT, 'requests');
await seedDueRequests(seeder, TABLE, {
  count: COUNT,
  dueAt: new Date(Date.now() - 60_000),
  onWritten: (n) => seeding.update(n),
});
seeding.stop();

const { document } = createDynamoClients();
const sqs = createSqsClient();
const counter = countRoundTrips(services.dynamoEndpoint);
// Each request handed on is one conditional UpdateItem, counted on the wire.
const running = startProgress('find-due: hand on', COUNT, 'requests');
const ticker = setInterval(() => running.update(counter.byOperation().UpdateItem ?? 0, 'processDue'), 250);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const result = await processDue(
  {
    log: logger,
    metrics,
    due: createDueIndex(document, TABLE),
    queue: createWorkQueue(sqs, services.queueUrl),
    now: () => new Date(),
    dueShards: DUE_SHARDS,
    dispatchWindowMs: 120_000,
    pageSize: PAGE_SIZE,
  },
  { budgetMs: BUDGET_MS },
);
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(ticker);
running.update(result.dispatched);
running.stop();
const { Attributes } = await sqs.send(
  new GetQueueAttributesCommand({ QueueUrl: services.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
);

emitResult({
  requests: COUNT,
  find_and_hand_on_s: round(elapsedMs / 1000),
  per_second: round(result.dispatched / (elapsedMs / 1000), 1),
  dispatched: result.dispatched,
  all_handed_on: result.dispatched === COUNT && Number(Attributes?.ApproximateNumberOfMessages) === COUNT,
  send_failures: result.sendFailures,
  out_of_time: result.outOfTime,
  queue_depth_after: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
  dynamodb_round_trips: counter.byOperation(),
  cpu_ms_per_request: round((cpu.user + cpu.system) / 1000 / COUNT, 3),
  page_size: PAGE_SIZE,
});
counter.stop();
document.destroy();
seeder.destroy();
sqs.destroy();
await services.stop();
