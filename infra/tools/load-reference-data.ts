import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDynamoClients } from '../../functions/platform/aws-clients.ts';
import { type Progress, startProgress } from './progress.ts';
import { type LoadProgress, loadReferenceData } from './reference-data.ts';

/**
 * `npm run load-reference-data -- --table <main table name> --file <reference-data.json>`
 * Loads users, units, subscriptions and installed items into a stage's main table. Safe to run again.
 * Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION). A live progress line on
 * stderr (plain lines every 10 s in a CI log) shows the reads of what is stored and the writes of what is not.
 */
const { values } = parseArgs({
  options: { table: { type: 'string' }, file: { type: 'string' } },
});
const table = values.table ?? process.env.TABLE_NAME;
if (!table || !values.file) {
  console.error('usage: npm run load-reference-data -- --table <main table name> --file <reference-data.json>');
  process.exit(2);
}
const { document } = createDynamoClients();
const lines: Partial<Record<Parameters<LoadProgress>[0], Progress>> = {};
const onProgress: LoadProgress = (phase, done, total) => {
  lines[phase] ??= startProgress(phase === 'read' ? 'read stored items' : 'write changed items', total, 'items');
  lines[phase].update(done);
  if (done === total) lines[phase].stop();
};
const result = await loadReferenceData(document, table, JSON.parse(readFileSync(values.file, 'utf8')), {
  onProgress,
});
console.log(`Loaded ${values.file} into ${table}: ${result.written} items written, ${result.unchanged} unchanged.`);
