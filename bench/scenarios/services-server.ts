/**
 * dynalite and fauxqs in a process of their own (as DynamoDB and SQS are remote to a Lambda), for scenarios that
 * measure one function's own work. Prints {"dynamoEndpoint","sqsEndpoint","queueUrl"} and runs until its stdin
 * closes.
 */
import { createTables, startDynamo, startQueues } from '../../infra/local/services.ts';

const dynamo = await startDynamo();
const queues = await startQueues();
const tables = {
  table: process.argv[2] ?? 'bench-main',
  idempotencyTable: `${process.argv[2] ?? 'bench-main'}-idempotency`,
};
await createTables(dynamo.endpoint, tables);
process.stdout.write(
  `${JSON.stringify({ dynamoEndpoint: dynamo.endpoint, sqsEndpoint: queues.endpoint, queueUrl: queues.queueUrl })}\n`,
);
process.stdin.resume();
process.stdin.once('close', async () => {
  await queues.stop();
  await dynamo.stop();
  process.exit(0);
});
