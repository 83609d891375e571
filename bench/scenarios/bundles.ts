/**
 * Cold start: each function's production bundle, built with esbuild exactly as the ServiceFunction construct has
 * CDK's NodejsFunction build it, then its size and the time a fresh Node process takes to import it, beside a
 * hello-world bundle built and imported the same way in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { emitResult, progress } from '../lib/child.ts';
import { median, round } from '../lib/stats.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 5);

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
  TABLE_NAME: 'bench-main',
  IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench-work',
  HEADEND_URL: 'https://headend.example.com',
  HEADEND_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench-headend',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

const outDir = mkdtempSync(join(tmpdir(), 'clear-pin-bundles-'));

/** The references, built from source text resolved in the project (so the SDK comes from its node_modules). */
const REFERENCES = {
  hello: "export const handler = async () => ({ statusCode: 200, body: JSON.stringify({ hello: 'world' }) });",
  // The least any function that reads DynamoDB through the bundled SDK must load.
  sdk_hello: [
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    "import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';",
    'const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));',
    "export const handler = async () => client.send(new GetCommand({ TableName: 'hello', Key: { pk: 'hello' } }));",
  ].join('\n'),
};

/** infra/constructs/service-function.ts's bundling props, as CDK turns them into esbuild arguments. */
const bundle = async (name: string, source: { entry: string } | { contents: string }) => {
  const outfile = join(outDir, name, 'index.mjs');
  const result = await build({
    ...('entry' in source
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.contents, resolveDir: ROOT, loader: 'ts', sourcefile: `${name}.ts` } }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  return {
    outfile,
    bytes: statSync(outfile).size,
    map_bytes: statSync(`${outfile}.map`).size,
    metafile: result.metafile,
  };
};

/** The biggest contributors to a bundle, by npm package (or project folder), in output bytes. */
const composition = (metafile: Metafile, top = 6) => {
  const byOwner = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      byOwner.set(pkg, (byOwner.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries(
    [...byOwner]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([owner, bytes]) => [owner, bytes]),
  );
};

// Plain JavaScript run with -e, so the child loads nothing but the bundle (no TypeScript stripping).
const IMPORT_ONCE = `
const started = performance.now();
const module = await import(process.argv[1]);
const importMs = performance.now() - started;
if (typeof module.handler !== 'function') throw new Error('no handler exported');
console.log(JSON.stringify({ import_ms: importMs }));
`;

/**
 * Imports a bundle in a fresh Node process: `import_ms` is the import alone (load, compile, top-level code:
 * what Lambda's INIT runs before the first event); `process_ms` is the whole process, spawn to exit, Node's
 * own start-up included.
 */
const importOnce = (file: string, sourceMaps: boolean) =>
  new Promise<{ import_ms: number; process_ms: number }>((resolve, reject) => {
    const spawned = performance.now();
    execFile(
      process.execPath,
      // As deployed: the construct sets NODE_OPTIONS=--enable-source-maps.
      [
        ...(sourceMaps ? ['--enable-source-maps'] : []),
        '--input-type=module',
        '-e',
        IMPORT_ONCE,
        pathToFileURL(file).href,
      ],
      { env: { PATH: process.env.PATH ?? '', ...DEPLOYED_ENV } },
      (error, stdout) => {
        if (error) return reject(error);
        const { import_ms } = JSON.parse(stdout) as { import_ms: number };
        resolve({ import_ms, process_ms: performance.now() - spawned });
      },
    );
  });

progress('building bundles');
const bundles = {
  hello: await bundle('hello', { contents: REFERENCES.hello }),
  sdk_hello: await bundle('sdk_hello', { contents: REFERENCES.sdk_hello }),
  ...Object.fromEntries(
    await Promise.all(
      Object.entries(FUNCTIONS).map(async ([name, entry]) => [name, await bundle(name, { entry: join(ROOT, entry) })]),
    ),
  ),
} as Record<'hello' | 'sdk_hello' | keyof typeof FUNCTIONS, Awaited<ReturnType<typeof bundle>>>;

// Round-robin over the bundles, so a burst of load on the machine spreads over all of them alike.
const names = Object.keys(bundles) as (keyof typeof bundles)[];
const samples = Object.fromEntries(
  names.map((n) => [n, { maps: [] as number[], plain: [] as number[], process: [] as number[] }]),
);
progress(`importing each bundle ${RUNS}× in fresh processes`);
for (let run = 0; run < RUNS; run++) {
  for (const name of names) {
    const file = bundles[name].outfile;
    const deployed = await importOnce(file, true);
    samples[name]?.maps.push(deployed.import_ms);
    samples[name]?.process.push(deployed.process_ms);
    samples[name]?.plain.push((await importOnce(file, false)).import_ms);
  }
}
rmSync(outDir, { recursive: true, force: true });

const figures = (name: keyof typeof bundles) => ({
  bytes: bundles[name].bytes,
  map_bytes: bundles[name].map_bytes,
  import_ms: round(median(samples[name]?.maps ?? [])),
  import_ms_without_source_maps: round(median(samples[name]?.plain ?? [])),
  process_ms: round(median(samples[name]?.process ?? [])),
  import_runs_ms: (samples[name]?.maps ?? []).map((ms) => round(ms, 1)),
  largest_inputs_bytes: composition(bundles[name].metafile),
});
const hello = figures('hello');
emitResult({
  hello_import_ms: hello.import_ms,
  hello_import_ms_without_source_maps: hello.import_ms_without_source_maps,
  hello_process_ms: hello.process_ms,
  hello_bytes: hello.bytes,
  runs: RUNS,
  sdk_hello: figures('sdk_hello'),
  api: figures('api'),
  worker: figures('worker'),
  processing_run: figures('processing_run'),
});
