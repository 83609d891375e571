import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProvisioningRequest } from '../../domain/provisioning-request.ts';
import type { RequestClaims } from '../../use-cases/ports.ts';
import { conditionalUpdate, isConditionFailure } from './conditional.ts';
import { keys } from './keys.ts';
import { nextInSequence, requestFromItem } from './requests.ts';

/** The worker's claims on requests, and the final writes that hold only while the claim is still its own. */
export const createRequestClaims = (client: DynamoDBDocumentClient, tableName: string): RequestClaims => {
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
    return conditionalUpdate(
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
      return conditionalUpdate(
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
