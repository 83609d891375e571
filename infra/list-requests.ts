import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../functions/adapters/dynamo/document-client.ts';

/**
 * `npm run list-requests -- --table <main table> [--state PENDING|COMPLETED|REJECTED] [--limit 50]`
 * An operator's view of provisioning requests. It scans the table, so it is for occasional use by people,
 * never for the service's own paths (those read by key or through the due index).
 */
const { values } = parseArgs({
  options: { table: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string', default: '50' } },
});
const table = values.table ?? process.env.TABLE_NAME;
if (!table) {
  console.error(
    'usage: npm run list-requests -- --table <main table> [--state PENDING|COMPLETED|REJECTED] [--limit 50]',
  );
  process.exit(2);
}
const { document } = createDynamoClients();
const limit = Number(values.limit);
const rows: Record<string, unknown>[] = [];
let startKey: Record<string, unknown> | undefined;
do {
  const page = await document.send(
    new ScanCommand({
      TableName: table,
      FilterExpression: values.state ? 'begins_with(pk, :req) AND lifeCycleState = :state' : 'begins_with(pk, :req)',
      ExpressionAttributeValues: { ':req': 'REQ#', ...(values.state ? { ':state': values.state } : {}) },
      ExclusiveStartKey: startKey,
    }),
  );
  rows.push(...(page.Items ?? []));
  startKey = page.LastEvaluatedKey;
} while (startKey && rows.length < limit);

console.table(
  rows.slice(0, limit).map((r) => ({
    number: r.number,
    id: r.id,
    state: r.lifeCycleState,
    priority: r.priority,
    scheduled: r.scheduledAt,
    nextLook: r.dueAt ?? '',
    attempts: r.attempts,
    error: r.errorCode ?? '',
  })),
);
