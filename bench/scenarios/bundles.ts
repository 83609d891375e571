/**
 * Cold start: each function's production bundle, built with esbuild from the very bundling props CDK's
 * NodejsFunction gets (SERVICE_BUNDLING in infra/constructs/service-function.ts), then its size and the time a
 * fresh Node process takes to import it, beside references built and imported the same way in the same run:
 * - hello: a handler that returns a constant;
 * - floor: the least a function that reads DynamoDB can be, one DynamoDBClient sending one GetItem;
 * - floor_default_chain: the floor with the SDK's default credential chain (no alias), what the trim saves;
 * - sdk_hello: a DocumentClient GetItem, as the functions read DynamoDB.
 * Then two checks that the trimmed bundles still work: no input of the default credential chain is left in any
 * of them (their metafiles), and each one, imported under Node 24 with environment credentials, answers an
 * invocation against dynalite and fauxqs, with stack traces mapped to the TypeScript sources.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { SERVICE_BUNDLING } from '../../infra/constructs/service-function.ts';
import { LOCAL_AWS_ENV } from '../../infra/local/services.ts';
import { startProgress } from '../../infra/tools/progress.ts';
import { esbuildOptionsOf } from '../lib/bundling.ts';
import { emitResult } from '../lib/child.ts';
import { CLEAR_PIN_PATH, SEED_BODY } from '../lib/demo.ts';
import { startServicesProcess } from '../lib/services-process.ts';
import { median, round } from '../lib/stats.ts';

const ROOT = join(import.meta.dirname, '..', '..');
// Import times of a few dozen ms move by a few ms from run to run: the median of 15 interleaved runs holds still.
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 15);

const FUNCTIONS = {
  api: 'functions/api/handler.ts',
  worker: 'functions/worker/handler.ts',
  processing_run: 'functions/processing-run/handler.ts',
} as const;

/** What each function's configuration needs to load (the deployed stage sets the same names). */
const DEPLOYED_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
  TABLE_NAME: 'bench-main',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench-work',
  HEADEND_URL: 'https://headend.example.com',
  HEADEND_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench-headend',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  EVENT_BUS_NAME: 'bench-events',
  EVENT_SOURCE: 'clear-pin.bench',
  OPERATOR_TIME_ZONE: 'UTC',
};

/** The references, built from source text resolved in the project (so the SDK comes from its node_modules). */
const HELLO = "export const handler = async () => ({ statusCode: 200, body: JSON.stringify({ hello: 'world' }) });";
const FLOOR = [
  "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
  'const client = new DynamoDBClient({});',
  'export const handler = async () =>',
  "  client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'floor' } } }));",
].join('\n');
const SDK_HELLO = [
  "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
  "import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';",
  'const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));',
  "export const handler = async () => client.send(new GetCommand({ TableName: 'hello', Key: { pk: 'hello' } }));",
].join('\n');

/** The packages of the SDK's default credential chain: none may be left in a trimmed bundle. */
const DEFAULT_CHAIN =
  /node_modules\/(@aws-sdk\/(nested-clients|token-providers|credential-provider-(node|ini|sso|process|http|web-identity|login))|@smithy\/credential-provider-imds)\//;

const outDir = mkdtempSync(join(tmpdir(), 'clear-pin-bundles-'));

/** SERVICE_BUNDLING as esbuild options; `deployed: false` leaves out the credential-chain alias. */
const bundle = async (name: string, source: { entry: string } | { contents: string }, deployed = true) => {
  const outfile = join(outDir, name, 'index.mjs');
  const bundling = deployed ? SERVICE_BUNDLING : { ...SERVICE_BUNDLING, esbuildArgs: undefined };
  const result = await build({
    ...esbuildOptionsOf(bundling),
    ...('entry' in source
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.contents, resolveDir: ROOT, loader: 'ts', sourcefile: `${name}.ts` } }),
    absWorkingDir: ROOT,
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  return {
    outfile,
    bytes: statSync(outfile).size,
    map_bytes: statSync(`${outfile}.map`).size,
    metafile: result.metafile,
    default_chain_inputs: inputs.filter((input) => DEFAULT_CHAIN.test(input)).length,
  };
};

/**
 * The biggest contributors to a bundle, in output bytes, by npm package (the innermost one, so a copy nested
 * under another package counts as itself) or by project folder.
 */
const composition = (metafile: Metafile, top = 8) => {
  const byOwner = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const packages = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
      const owner = packages.at(-1)?.[1] ?? input.split('/').slice(0, 2).join('/');
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries([...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top));
};

// Plain JavaScript run with -e, so the child loads nothing but the bundle (no TypeScript stripping).
const IMPORT_ONCE = `
const started = performance.now();
const module = await import(process.argv[1]);
const importMs = performance.now() - started;
if (typeof module.handler !== 'function') throw new Error('no handler exported');
console.log(JSON.stringify({ import_ms: importMs }));
`;

/** Runs a bundle's handler once and prints the outcome as the last stdout line (the handler logs before it). */
const INVOKE_ONCE = `
const [file, event, contextKind] = process.argv.slice(1);
const { handler } = await import(file);
const context = {
  functionName: 'bench-smoke',
  awsRequestId: 'bench-smoke-' + Date.now(),
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-smoke',
  memoryLimitInMB: '512',
  // Without it, the handler's first use of the context throws inside the bundle: the source-map check.
  ...(contextKind === 'broken' ? {} : { getRemainingTimeInMillis: () => 10000 }),
};
let outcome;
try {
  outcome = { ok: true, result: await handler(JSON.parse(event), context) };
} catch (error) {
  outcome = { ok: false, name: error.name, message: error.message, stack: error.stack };
}
console.log(JSON.stringify(outcome));
process.exit(0);
`;

const runNode = (args: string[], env: Record<string, string>) =>
  new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });

/**
 * Imports a bundle in a fresh Node process: `import_ms` is the import alone (load, compile, top-level code:
 * what Lambda's INIT runs before the first event); `process_ms` is the whole process, spawn to exit, Node's
 * own start-up included.
 */
const importOnce = async (file: string, sourceMaps: boolean) => {
  const spawned = performance.now();
  // As deployed: the stage sets NODE_OPTIONS=--enable-source-maps.
  const stdout = await runNode(
    [
      ...(sourceMaps ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      IMPORT_ONCE,
      pathToFileURL(file).href,
    ],
    DEPLOYED_ENV,
  );
  const { import_ms } = JSON.parse(stdout) as { import_ms: number };
  return { import_ms, process_ms: performance.now() - spawned };
};

const SOURCES = {
  hello: { contents: HELLO },
  floor: { contents: FLOOR },
  floor_default_chain: { contents: FLOOR },
  sdk_hello: { contents: SDK_HELLO },
  ...Object.fromEntries(Object.entries(FUNCTIONS).map(([name, entry]) => [name, { entry: join(ROOT, entry) }])),
} as Record<
  'hello' | 'floor' | 'floor_default_chain' | 'sdk_hello' | keyof typeof FUNCTIONS,
  { entry: string } | { contents: string }
>;
const names = Object.keys(SOURCES) as (keyof typeof SOURCES)[];

const building = startProgress('bundles: build', names.length, 'bundles');
const bundles = {} as Record<keyof typeof SOURCES, Awaited<ReturnType<typeof bundle>>>;
for (const [index, name] of names.entries()) {
  building.update(index, name);
  bundles[name] = await bundle(name, SOURCES[name], name !== 'floor_default_chain');
}
building.update(names.length);
building.stop();
const leftovers = names.filter((name) => name !== 'floor_default_chain' && bundles[name].default_chain_inputs > 0);
if (leftovers.length > 0) throw new Error(`The default credential chain is still bundled in ${leftovers}`);

// Round-robin over the bundles, so a burst of load on the machine spreads over all of them alike.
const samples = Object.fromEntries(
  names.map((n) => [n, { maps: [] as number[], plain: [] as number[], process: [] as number[] }]),
) as Record<keyof typeof SOURCES, { maps: number[]; plain: number[]; process: number[] }>;
const importing = startProgress('bundles: import', RUNS * names.length * 2, 'imports');
for (let run = 0; run < RUNS; run++) {
  for (const [index, name] of names.entries()) {
    importing.update((run * names.length + index) * 2, `run ${run + 1}/${RUNS}: ${name}`);
    const file = bundles[name].outfile;
    const deployed = await importOnce(file, true);
    samples[name].maps.push(deployed.import_ms);
    samples[name].process.push(deployed.process_ms);
    samples[name].plain.push((await importOnce(file, false)).import_ms);
  }
}
importing.update(RUNS * names.length * 2);
importing.stop();

// The smoke check, after the timings so that the services' process does not share the machine with them.
const TABLE = 'bench-bundles';
const services = await startServicesProcess(TABLE);
const smokeEnv = {
  ...DEPLOYED_ENV,
  AWS_REGION: LOCAL_AWS_ENV.AWS_REGION,
  AWS_ENDPOINT_URL_DYNAMODB: services.dynamoEndpoint,
  AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
  TABLE_NAME: TABLE,
  IDEMPOTENCY_TABLE_NAME: `${TABLE}-idempotency`,
  QUEUE_URL: services.queueUrl,
};
type Outcome = { ok: boolean; result?: Record<string, unknown>; name?: string; message?: string; stack?: string };
const invoke = async (name: keyof typeof SOURCES, event: unknown, context: 'lambda' | 'broken' = 'lambda') => {
  const stdout = await runNode(
    [
      '--enable-source-maps',
      '--input-type=module',
      '-e',
      INVOKE_ONCE,
      pathToFileURL(bundles[name].outfile).href,
      JSON.stringify(event),
      context,
    ],
    smokeEnv,
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Outcome;
};
/** Each answer needs DynamoDB (and so signed requests with the environment's credentials) to get through. */
const SMOKE = {
  floor: {
    event: {},
    passed: (o: Outcome) => (o.result?.$metadata as { httpStatusCode?: number })?.httpStatusCode === 200,
  },
  // An unknown token: the create reads it from DynamoDB and refuses it; a DynamoDB failure would be a 503.
  api: {
    event: {
      httpMethod: 'POST',
      path: CLEAR_PIN_PATH,
      resource: CLEAR_PIN_PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SEED_BODY),
      queryStringParameters: null,
      requestContext: { requestId: 'bench-smoke' },
    },
    passed: (o: Outcome) => o.result?.statusCode === 401,
  },
  // A request that does not exist: the claim reads DynamoDB, finds nothing, and the record is done.
  worker: {
    event: {
      Records: [
        {
          messageId: 'bench-smoke',
          receiptHandle: 'bench-smoke',
          body: JSON.stringify({ requestId: 'bench-smoke-unknown' }),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          eventSource: 'aws:sqs',
        },
      ],
    },
    passed: (o: Outcome) => Array.isArray(o.result?.batchItemFailures) && o.result.batchItemFailures.length === 0,
  },
  // An empty due index: the run queries every shard and hands nothing on.
  processing_run: {
    event: { id: 'bench-smoke', 'detail-type': 'Scheduled Event', source: 'aws.events' },
    passed: (o: Outcome) => o.result?.dispatched === 0,
  },
};
const smoke: Record<string, string> = {};
const checking = startProgress('bundles: smoke', Object.keys(SMOKE).length + 1, 'checks');
for (const [index, [name, check]] of Object.entries(SMOKE).entries()) {
  checking.update(index, name);
  const outcome = await invoke(name as keyof typeof SMOKE, check.event);
  if (!check.passed(outcome)) throw new Error(`The ${name} bundle failed its smoke check: ${JSON.stringify(outcome)}`);
  smoke[name] = 'passed';
}
checking.update(Object.keys(SMOKE).length, 'source maps');
const broken = await invoke('processing_run', { id: 'bench-smoke' }, 'broken');
const mapped = broken.stack?.includes('functions/processing-run/handler.ts') ?? false;
if (!mapped) throw new Error(`A stack trace from the bundle is not mapped to its source: ${broken.stack}`);
smoke.source_maps = 'a stack trace names functions/processing-run/handler.ts';
checking.update(Object.keys(SMOKE).length + 1);
checking.stop();
await services.stop();
rmSync(outDir, { recursive: true, force: true });

const figures = (name: keyof typeof SOURCES) => ({
  bytes: bundles[name].bytes,
  map_bytes: bundles[name].map_bytes,
  import_ms: round(median(samples[name].maps)),
  import_ms_without_source_maps: round(median(samples[name].plain)),
  process_ms: round(median(samples[name].process)),
  import_runs_ms: samples[name].maps.map((ms) => round(ms, 1)),
  largest_inputs_bytes: composition(bundles[name].metafile),
});
const hello = figures('hello');
const floor = figures('floor');
emitResult({
  hello_import_ms: hello.import_ms,
  hello_import_ms_without_source_maps: hello.import_ms_without_source_maps,
  hello_process_ms: hello.process_ms,
  hello_bytes: hello.bytes,
  floor_bytes: floor.bytes,
  floor_import_ms: floor.import_ms,
  runs: RUNS,
  floor,
  floor_default_chain: figures('floor_default_chain'),
  sdk_hello: figures('sdk_hello'),
  api: figures('api'),
  worker: figures('worker'),
  processing_run: figures('processing_run'),
  default_chain_left_in: leftovers,
  smoke,
});
