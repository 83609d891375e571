import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDynamoClients } from '../../functions/platform/aws-clients.ts';
import { loadReferenceData } from './reference-data.ts';

/**
 * `npm run load-reference-data -- --table <main table name> --file <reference-data.json>`
 * Loads users, units, subscriptions and installed items into a stage's main table. Safe to run again.
 * Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION).
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
const result = await loadReferenceData(document, table, JSON.parse(readFileSync(values.file, 'utf8')));
console.log(`Loaded ${values.file} into ${table}: ${result.written} items written, ${result.unchanged} unchanged.`);
