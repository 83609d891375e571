import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { CANCELLED, type ProvisioningRequest } from '../../domain/provisioning-request.ts';
import type { DuePlacement, RequestStore } from '../../use-cases/ports.ts';
import { isConditionFailure } from './conditional.ts';
import { finalWrite } from './final-state.ts';
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

/** Attributes that only place a request in the table's indexes (keys.ts), never part of the request itself. */
const INTERNAL = [
  'pk',
  'numberKey',
  'dueShard',
  'dueAt',
  'leaseUntil',
  'claimId',
  'creationKey',
  'listKey',
  'listSort',
  'listSubscription',
  'listSmartcard',
  'eventShard',
  'eventAt',
] as const;

export const requestFromItem = (item: Record<string, unknown> | undefined): ProvisioningRequest | undefined => {
  if (!item) return undefined;
  const request = { ...item };
  for (const attribute of INTERNAL) delete request[attribute];
  return request as ProvisioningRequest;
};

/** A new request as stored: the request and its places in the `by-number`, `list` and `due` indexes. */
export const requestItem = (request: ProvisioningRequest, due: DuePlacement) => ({
  ...request,
  pk: keys.request(request.id),
  numberKey: keys.requestNumber(request.organisation, request.number),
  creationKey: keys.creationPartition(request.organisation, request.priority),
  listKey: keys.listPartition(request.organisation, request.lifeCycleState, request.priority),
  listSort: keys.listSort(request.createdAt, request.number),
  listSubscription: keys.listBySubscription(request.organisation, request.subscriptionId),
  listSmartcard: keys.listBySmartcard(request.organisation, request.installedItemId),
  dueShard: due.shard,
  dueAt: due.at.toISOString(),
});

export const createRequestStore = (client: DynamoDBDocumentClient, tableName: string): RequestStore => {
  const read = async (id: string) => {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: keys.request(id) }, ConsistentRead: true }),
    );
    return requestFromItem(Item);
  };
  const findById = async (organisation: string, id: string) => {
    const request = await read(id);
    return request?.organisation === organisation ? request : undefined;
  };

  return {
    nextNumber: () => nextInSequence(client, tableName, 'provisioning-request-number'),

    async create(request, due) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: requestItem(request, due),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'created';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // The SDK retries a put whose reply was lost, and the retry finds the item the first attempt wrote: the
        // same number and creation instant can only be that attempt. Anything else is another create's request.
        const stored = await read(request.id);
        return stored?.number === request.number && stored.createdAt === request.createdAt ? 'created' : 'exists';
      }
    },

    findById,

    async cancel(request, by, now) {
      try {
        const { Attributes } = await client.send(
          finalWrite({
            tableName,
            request,
            state: 'REJECTED',
            at: now,
            fields: {
              errorCode: CANCELLED,
              errorDescription: `Cancelled by ${by.user.username}`,
              updatedByUser: by.user,
              updatedByUnit: by.unit,
            },
            // Never claimed, never tried: so it has not reached the headend and, once REJECTED, never will.
            condition: 'lifeCycleState = :pending AND attribute_not_exists(claimId) AND attempts = :none',
            conditionValues: { ':pending': 'PENDING', ':none': 0 },
          }),
        );
        return { outcome: 'cancelled', request: requestFromItem(Attributes) as ProvisioningRequest };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = await read(request.id);
        return { outcome: current?.lifeCycleState === 'PENDING' ? 'in-progress' : 'final' };
      }
    },

    async findByNumber(organisation, number) {
      const { Items } = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.byNumber,
          KeyConditionExpression: 'numberKey = :key',
          ExpressionAttributeValues: { ':key': keys.requestNumber(organisation, number) },
        }),
      );
      const pk = Items?.[0]?.pk as string | undefined;
      return pk === undefined ? undefined : findById(organisation, requestIdOf(pk));
    },
  };
};
