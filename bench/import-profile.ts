/**
 * Where a bundle's import time goes: builds a function's bundle as deployed (SERVICE_BUNDLING), imports it in
 * fresh Node processes under `--cpu-prof`, and sums the self time by package or project folder, each frame of
 * the bundle mapped back to its source through the bundle's source map.
 *   npx node bench/import-profile.ts api|worker|processing_run|floor [runs]
 * Node's own start-up is in every profile (as "node core" and the VM), so compare with the floor's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptionsOf } from './lib/bundling.ts';
import { summarizeProfile } from './lib/profile-summary.ts';

const ENTRIES: Record<string, { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string } }> = {
  api: { entryPoints: ['functions/api/handler.ts'] },
  worker: { entryPoints: ['functions/worker/handler.ts'] },
  processing_run: { entryPoints: ['functions/processing-run/handler.ts'] },
  floor: {
    stdin: {
      contents: [
        "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
        'const client = new DynamoDBClient({});',
        "export const handler = () => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }));",
      ].join('\n'),
      resolveDir: join(import.meta.dirname, '..'),
    },
  },
};
const [name = 'api', runs = '5'] = process.argv.slice(2);
const entry = ENTRIES[name];
if (!entry) throw new Error(`usage: import-profile.ts ${Object.keys(ENTRIES).join('|')} [runs]`);

const dir = mkdtempSync(join(tmpdir(), 'clear-pin-import-profile-'));
const outfile = join(dir, 'index.mjs');
await build({ ...esbuildOptionsOf(), ...entry, absWorkingDir: join(import.meta.dirname, '..'), outfile });
const url = pathToFileURL(outfile).href;
const map = new SourceMap(JSON.parse(readFileSync(`${outfile}.map`, 'utf8')));
const env = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'profile',
  AWS_SECRET_ACCESS_KEY: 'profile',
  TABLE_NAME: 'profile',
  IDEMPOTENCY_TABLE_NAME: 'profile-idempotency',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/profile',
  HEADEND_URL: 'https://headend.example.com',
  HEADEND_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:profile',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};
for (let run = 0; run < Number(runs); run++) {
  execFileSync(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--cpu-prof-interval=100',
      '--input-type=module',
      '-e',
      `await import('${url}')`,
    ],
    { env },
  );
}
const owners = new Map<string, number>();
const functions = new Map<string, number>();
const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
for (const file of profiles) {
  const summary = summarizeProfile(join(dir, file), 1000, (frame) => {
    if (frame.url !== url) return undefined;
    const found = map.findEntry(frame.lineNumber, frame.columnNumber);
    // Unmapped: the module's top-level function and esbuild's helpers.
    return 'originalSource' in found ? new URL(found.originalSource, url).href : 'the bundle (unmapped code)';
  });
  for (const { owner, ms } of summary.by_owner) owners.set(owner, (owners.get(owner) ?? 0) + ms / profiles.length);
  for (const { fn, where, ms } of summary.top_functions) {
    functions.set(`${fn} ${where}`, (functions.get(`${fn} ${where}`) ?? 0) + ms / profiles.length);
  }
}
rmSync(dir, { recursive: true, force: true });
const total = [...owners.values()].reduce((a, b) => a + b, 0);
const rows = (entries: Map<string, number>, key: string) =>
  [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([what, ms]) => ({
      [key]: what,
      ms: Math.round(ms * 10) / 10,
      share: `${((ms / total) * 100).toFixed(1)} %`,
    }));
console.log(`${name}: ${profiles.length} imports, ${total.toFixed(0)} ms of self time each (under the profiler)`);
console.table(rows(owners, 'owner'));
console.table(rows(functions, 'function'));
