import { parseArgs } from 'node:util';
import type { LifeCycleState } from '../../functions/domain/provisioning-request.ts';
import { createDynamoClients } from '../../functions/platform/aws-clients.ts';
import { scanRequests } from './stored-requests.ts';

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
const rows = await scanRequests(document, table, {
  state: values.state as LifeCycleState | undefined,
  limit: Number(values.limit),
});

console.table(
  rows.map((r) => ({
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
