import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DueIndex } from '../../use-cases/ports.ts';
import { conditionalUpdate } from './conditional.ts';
import { INDEX, keys, requestIdOf } from './keys.ts';

/** The processing run's reads and hand-on writes on the sparse `due` index (keys.ts). */
export const createDueIndex = (client: DynamoDBDocumentClient, tableName: string): DueIndex => ({
  async findDue(shard, now, limit, after) {
    const { Items, LastEvaluatedKey } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEX.due,
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
        ExpressionAttributeValues: { ':shard': shard, ':now': now.toISOString() },
        Limit: limit,
        ExclusiveStartKey: after as Record<string, unknown> | undefined,
      }),
    );
    return {
      entries: (Items ?? []).map((item) => ({ id: requestIdOf(item.pk as string), dueAt: item.dueAt as string })),
      next: LastEvaluatedKey,
    };
  },

  markDispatched(entry, nextDueAt) {
    return conditionalUpdate(
      client,
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: keys.request(entry.id) },
        UpdateExpression: 'SET dueAt = :next',
        ConditionExpression: 'dueAt = :seen AND lifeCycleState = :pending',
        ExpressionAttributeValues: { ':next': nextDueAt.toISOString(), ':seen': entry.dueAt, ':pending': 'PENDING' },
      }),
    );
  },
});
