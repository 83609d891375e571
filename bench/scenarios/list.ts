/**
 * The list page's cost against the table's size (issue 13: it grows with `offset + number_of_results`, not with
 * the table). One organisation's table is filled to 10,000 and then 100,000 requests; at each size, pages of 50
 * at offset 0 and at offset 1,000 are read with the adapter the API uses, newest first and unfiltered (the two
 * priority partitions of the by-creation index, merged), alternating with a baseline measured the same way:
 * one Query of the `offset + 50` newest index entries of the one partition that holds them and one BatchGetItem
 * of the 50, the least DynamoDB work that page can take. DynamoDB requests are counted on the wire.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { INDEX, keys } from '../../functions/adapters/dynamo/keys.ts';
import { createRequestList } from '../../functions/adapters/dynamo/request-list.ts';
import { MAX_RESULTS } from '../../functions/domain/list-query.ts';
import { createDynamoClients } from '../../functions/platform/aws-clients.ts';
import { LOCAL_AWS_ENV } from '../../infra/local/services.ts';
import { startProgress } from '../../infra/tools/progress.ts';
import { DEMO_LOGIN } from '../../test/helpers/demo.ts';
import { emitResult } from '../lib/child.ts';
import { countRoundTrips } from '../lib/dynamo-counter.ts';
import { seedDueRequests } from '../lib/seed.ts';
import { startServicesProcess } from '../lib/services-process.ts';
import { median, percentile, round } from '../lib/stats.ts';

const SIZES = (process.env.BENCH_LIST_SIZES ?? '10000,100000').split(',').map(Number);
const OFFSETS = [0, 1_000];
const PAGES = Number(process.env.BENCH_LIST_PAGES ?? 40);
const WARM_UP = 5;
const ORGANISATION = DEMO_LOGIN.organisation;

const TABLE = 'bench-list';
const services = await startServicesProcess(TABLE);
Object.assign(process.env, { ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: services.dynamoEndpoint });

const seeder = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: services.dynamoEndpoint, region: LOCAL_AWS_ENV.AWS_REGION }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const { document } = createDynamoClients();
const list = createRequestList(document, TABLE);
const counter = countRoundTrips(services.dynamoEndpoint);

/** The seeded requests are all REGULAR: that partition holds every entry. */
const baselinePage = async (offset: number) => {
  const { Items = [] } = await document.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: INDEX.byCreation,
      KeyConditionExpression: 'creationKey = :key',
      ExpressionAttributeValues: { ':key': keys.creationPartition(ORGANISATION, 'REGULAR') },
      ScanIndexForward: false,
      Limit: offset + MAX_RESULTS,
    }),
  );
  const pks = Items.slice(offset).map((item) => ({ pk: item.pk as string }));
  const { Responses } = await document.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: pks } } }));
  return Responses?.[TABLE]?.length ?? 0;
};
const servicePage = async (offset: number) => (await list.page(ORGANISATION, { limit: MAX_RESULTS, offset })).length;

type Side = { p50_ms: number; p90_ms: number; requests_per_page: number; results: number };
const measure = async (offset: number, onPage: () => void) => {
  const samples = { service: [] as number[], baseline: [] as number[] };
  const requests = { service: 0, baseline: 0 };
  const results = { service: 0, baseline: 0 };
  // A few unrecorded pages first: the first reads of a size warm the connections and dynalite's caches.
  for (let i = 0; i < WARM_UP; i++) await Promise.all([servicePage(offset), baselinePage(offset)]);
  for (let i = 0; i < PAGES; i++) {
    for (const side of ['service', 'baseline'] as const) {
      counter.reset();
      const started = performance.now();
      results[side] = await (side === 'service' ? servicePage(offset) : baselinePage(offset));
      samples[side].push(performance.now() - started);
      requests[side] += counter.total();
    }
    onPage();
  }
  // A few dozen pages per point: p90 is the highest percentile they can show.
  const summary = (side: 'service' | 'baseline'): Side => ({
    p50_ms: round(median(samples[side]), 2),
    p90_ms: round(percentile(samples[side], 90), 2),
    requests_per_page: round(requests[side] / PAGES, 2),
    results: results[side],
  });
  const service = summary('service');
  const baseline = summary('baseline');
  return { service, baseline, p50_ratio_to_baseline: round(service.p50_ms / baseline.p50_ms, 2) };
};

const points: Record<string, Awaited<ReturnType<typeof measure>>> = {};
let seeded = 0;
for (const size of SIZES) {
  const seeding = startProgress(`list: seed to ${size}`, size, 'requests');
  seeding.update(seeded);
  await seedDueRequests(seeder, TABLE, {
    count: size - seeded,
    dueAt: new Date(Date.now() + 86_400_000),
    firstNumber: 1_000_000 + seeded,
    concurrency: 8,
    onWritten: (n) => seeding.update(seeded + n),
  });
  seeded = size;
  seeding.stop();
  const reading = startProgress(`list: pages over ${size}`, OFFSETS.length * PAGES, 'pages');
  let done = 0;
  for (const offset of OFFSETS) {
    points[`rows_${size}_offset_${offset}`] = await measure(offset, () => reading.update(++done, `offset ${offset}`));
  }
  reading.stop();
}

/**
 * The page's p50 over the baseline's at the largest table, over the same at the smallest. dynalite itself reads
 * more slowly from a larger database (the baseline's own p50 moves with the size), so the page's share of the
 * least work, not its raw latency, is what shows whether the service's cost grows with the table.
 */
const ratioAcrossSizes = (offset: number) => {
  const [small, large] = [SIZES[0], SIZES.at(-1)].map((size) => points[`rows_${size}_offset_${offset}`]);
  return small && large ? round(large.p50_ratio_to_baseline / small.p50_ratio_to_baseline, 2) : Number.NaN;
};

emitResult({
  sizes: SIZES,
  offsets: OFFSETS,
  pages_per_point: PAGES,
  page_size: MAX_RESULTS,
  points,
  // Flat in the table size, at each offset: the largest table's page-to-baseline ratio over the smallest's.
  ratio_to_baseline_largest_to_smallest_table: Object.fromEntries(
    OFFSETS.map((o) => [`offset_${o}`, ratioAcrossSizes(o)]),
  ),
});
counter.stop();
document.destroy();
seeder.destroy();
await services.stop();
