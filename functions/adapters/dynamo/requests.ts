import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ProvisioningRequest } from '../../domain/provisioning-request.ts';
import type { RequestStore } from '../../use-cases/ports.ts';
import { INDEX, keys, requestIdOf } from './keys.ts';

/** One increasing sequence per name; ADD is atomic, so concurrent callers never share a value. */
export const nextInSequence = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  name: string,
): Promise<string> => {
  const { Attributes } = await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk: keys.sequence(name) },
      UpdateExpression: 'ADD #value :one',
      ExpressionAttributeNames: { '#value': 'value' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return String(Attributes?.value);
};

const INTERNAL = ['pk', 'dueShard', 'dueAt', 'leaseUntil', 'claimId'] as const;

export const requestFromItem = (item: Record<string, unknown> | undefined): ProvisioningRequest | undefined => {
  if (!item) return undefined;
  const request = { ...item };
  for (const attribute of INTERNAL) delete request[attribute];
  return request as ProvisioningRequest;
};

export const createRequestStore = (client: DynamoDBDocumentClient, tableName: string): RequestStore => ({
  nextNumber: () => nextInSequence(client, tableName, 'provisioning-request-number'),

  async create(request, due) {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...request, pk: keys.request(request.id), dueShard: due.shard, dueAt: due.at.toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      // The SDK retries a put whose reply was lost; the retry then finds the item the first attempt wrote. Ids
      // are 128 random bits, so an item with this id and number can only be that first attempt: it succeeded.
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: keys.request(request.id) }, ConsistentRead: true }),
      );
      if (Item?.number !== request.number || Item?.createdAt !== request.createdAt) throw error;
    }
  },

  async confirmIdempotency(id) {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: keys.request(id) },
        UpdateExpression: 'SET idempotencyConfirmed = :yes',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  },

  async findById(id) {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: keys.request(id) }, ConsistentRead: true }),
    );
    return requestFromItem(Item);
  },

  async findByNumber(number) {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEX.byNumber,
        KeyConditionExpression: '#number = :number',
        ExpressionAttributeNames: { '#number': 'number' },
        ExpressionAttributeValues: { ':number': number },
        Limit: 1,
      }),
    );
    const pk = Items?.[0]?.pk as string | undefined;
    return pk === undefined ? undefined : this.findById(requestIdOf(pk));
  },
});
