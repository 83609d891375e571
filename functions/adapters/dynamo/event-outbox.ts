import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventOutbox } from '../../use-cases/ports.ts';
import { batchGetByPk } from './batch-get.ts';
import { conditionalUpdate } from './conditional.ts';
import { EVENT_SHARDS, INDEX, keys, requestIdOf } from './keys.ts';
import { requestFromItem } from './requests.ts';

/** The events outbox: the sparse `events` index that every final write places a request in (final-state.ts). */
export const createEventOutbox = (client: DynamoDBDocumentClient, tableName: string): EventOutbox => ({
  async pending(before, limit) {
    const shards = await Promise.all(
      Array.from({ length: EVENT_SHARDS }, async (_, n) => {
        const { Items = [] } = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: INDEX.events,
            KeyConditionExpression: 'eventShard = :shard AND eventAt <= :before',
            ExpressionAttributeValues: { ':shard': keys.eventShard(n), ':before': before.toISOString() },
            Limit: limit,
          }),
        );
        return Items.map((item) => ({ id: requestIdOf(item.pk as string), eventAt: item.eventAt as string }));
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.eventAt.localeCompare(b.eventAt))
      .slice(0, limit);
  },

  async requests(entries) {
    const found = await batchGetByPk(
      client,
      tableName,
      entries.map((e) => keys.request(e.id)),
    );
    return entries.flatMap((e) => {
      const request = requestFromItem(found.get(keys.request(e.id)));
      return request ? [request] : [];
    });
  },

  async published(entries) {
    await Promise.all(
      entries.map((entry) =>
        conditionalUpdate(
          client,
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: keys.request(entry.id) },
            UpdateExpression: 'REMOVE eventShard, eventAt',
            ConditionExpression: 'eventAt = :seen',
            ExpressionAttributeValues: { ':seen': entry.eventAt },
          }),
        ),
      ),
    );
  },
});
