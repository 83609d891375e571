import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProvisioningRequest } from '../../domain/provisioning-request.ts';
import type { ProcessingStore } from '../../use-cases/ports.ts';
import { INDEX, keys, requestIdOf } from './keys.ts';
import { nextInSequence, requestFromItem } from './requests.ts';

const isConditionFailure = (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException';

/** Runs a conditional update; false when the condition did not hold (someone else got there first). */
const conditional = async (client: DynamoDBDocumentClient, command: UpdateCommand): Promise<boolean> => {
  try {
    await client.send(command);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
};

export const createProcessingStore = (client: DynamoDBDocumentClient, tableName: string): ProcessingStore => {
  const finish = (id: string, claimId: string, state: 'COMPLETED' | 'REJECTED', fields: Record<string, unknown>) => {
    const names: Record<string, string> = { '#state': 'lifeCycleState' };
    const values: Record<string, unknown> = { ':state': state, ':claim': claimId };
    const sets = ['#state = :state'];
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    return conditional(
      client,
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: keys.request(id) },
        UpdateExpression: `SET ${sets.join(', ')} REMOVE dueShard, dueAt, leaseUntil, claimId`,
        ConditionExpression: 'claimId = :claim',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  };

  return {
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
      return conditional(
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

    async claim(id, claimId, now, leaseUntil) {
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: keys.request(id) },
            // The lease end is also the next look: if this worker dies, the request is due again then.
            UpdateExpression: 'SET leaseUntil = :lease, dueAt = :lease, claimId = :claim ADD attempts :one',
            ConditionExpression:
              'lifeCycleState = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
            ExpressionAttributeValues: {
              ':lease': leaseUntil.toISOString(),
              ':claim': claimId,
              ':one': 1,
              ':pending': 'PENDING',
              ':now': now.toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return requestFromItem(Attributes) as ProvisioningRequest;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    complete(id, claimId, c) {
      return finish(id, claimId, 'COMPLETED', {
        executedAt: c.executedAt.toISOString(),
        updatedAt: c.executedAt.toISOString(),
        referenceNumber: c.referenceNumber,
        sequenceNumber: c.sequenceNumber,
        processId: c.processId,
        request: c.request,
        response: c.response,
      });
    },

    reject(id, claimId, r) {
      return finish(id, claimId, 'REJECTED', {
        executedAt: r.executedAt.toISOString(),
        updatedAt: r.executedAt.toISOString(),
        errorCode: r.errorCode,
        errorDescription: r.errorDescription,
        processId: r.processId,
        request: r.request,
        response: r.response,
      });
    },

    release(id, claimId, nextDueAt) {
      return conditional(
        client,
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: keys.request(id) },
          UpdateExpression: 'SET dueAt = :next REMOVE leaseUntil, claimId',
          ConditionExpression: 'claimId = :claim',
          ExpressionAttributeValues: { ':next': nextDueAt.toISOString(), ':claim': claimId },
        }),
      );
    },

    nextSequenceNumber: () => nextInSequence(client, tableName, 'sending-sequence'),
  };
};
