/**
 * dynalite and fauxqs in a process of their own (as DynamoDB and SQS are remote to a Lambda), for scenarios that
 * measure one function's own work. Prints {"dynamoEndpoint","sqsEndpoint","queueUrl"} and runs until its stdin
 * closes.
 */
import { createTable, startDynamo, startQueues } from '../../infra/local/services.ts';

const dynamo = await startDynamo();
const queues = await startQueues();
await createTable(dynamo.endpoint, process.argv[2] ?? 'bench-main');
process.stdout.write(
  `${JSON.stringify({ dynamoEndpoint: dynamo.endpoint, sqsEndpoint: queues.endpoint, queueUrl: queues.queueUrl })}\n`,
);
process.stdin.resume();
process.stdin.once('close', async () => {
  await queues.stop();
  await dynamo.stop();
  process.exit(0);
});
