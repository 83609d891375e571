import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { INDEX } from '../../functions/adapters/dynamo/keys.ts';
import { dueShardOf } from '../../functions/domain/provisioning-request.ts';
import { requestItem, seedRequest } from './demo.ts';

export const DUE_SHARDS = 4;
const ALL_SHARDS = ['EXPRESS', 'REGULAR'].flatMap((p) => Array.from({ length: DUE_SHARDS }, (_, n) => `${p}#${n}`));

/**
 * Writes `count` PENDING requests due from `dueAt` on: the very item the API writes, placed in the due index the
 * same way, 25 to a BatchWriteItem (seeding is not what is measured, and one PutItem each would take several
 * times longer). Answers their ids.
 *
 * The due times are spread over the `spreadMs` milliseconds from `dueAt`: dynalite keys an index entry by the
 * index key plus only 24 bits of a hash of the table key, so among thousands of requests with the very same
 * `dueShard` and `dueAt` two can collide and one silently drops out of the due index (DynamoDB has no such
 * limit). A second's spread makes that all but impossible and is well inside the drain's timing.
 */
export const seedDueRequests = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  options: {
    count: number;
    dueAt: Date;
    concurrency?: number;
    firstNumber?: number;
    spreadMs?: number;
    /** Called with the number written so far, after each batch. */
    onWritten?: (written: number) => void;
  },
): Promise<string[]> => {
  const spreadMs = options.spreadMs ?? 1_000;
  const ids: string[] = [];
  let next = 0;
  let written = 0;
  const worker = async () => {
    while (next < options.count) {
      const batch = [];
      for (; batch.length < 25 && next < options.count; next++) {
        const dueAt = new Date(options.dueAt.getTime() + (next % spreadMs));
        const request = seedRequest(String((options.firstNumber ?? 1_000_000) + next), new Date(), dueAt);
        batch.push(requestItem(request, { shard: dueShardOf(request.id, request.priority, DUE_SHARDS), at: dueAt }));
        ids.push(request.id);
      }
      let pending: Record<string, unknown>[] = batch.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
        );
        pending = (UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined) ?? [];
      }
      written += batch.length;
      options.onWritten?.(written);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return ids;
};

/**
 * True when no request due before `before` is PENDING: the due index is sparse (a final request leaves it), so
 * an empty index up to a cut-off means every request due by then is final.
 */
export const noneDueBefore = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  before: Date,
): Promise<boolean> => {
  const pages = await Promise.all(
    ALL_SHARDS.map((shard) =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.due,
          KeyConditionExpression: 'dueShard = :shard AND dueAt < :before',
          ExpressionAttributeValues: { ':shard': shard, ':before': before.toISOString() },
          Limit: 1,
        }),
      ),
    ),
  );
  return pages.every((page) => (page.Items ?? []).length === 0);
};

/** Life cycle states of every request in the table (a full scan: for checking, never inside a timing). */
export const requestStates = async (client: DynamoDBDocumentClient, tableName: string) => {
  const states: Record<string, number> = {};
  let after: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(pk, :req)',
        ExpressionAttributeValues: { ':req': 'REQ#' },
        ProjectionExpression: 'lifeCycleState',
        ExclusiveStartKey: after,
      }),
    );
    for (const item of page.Items ?? []) {
      const state = String(item.lifeCycleState);
      states[state] = (states[state] ?? 0) + 1;
    }
    after = page.LastEvaluatedKey;
  } while (after !== undefined);
  return states;
};
