import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProvisioningRequest } from '../../domain/provisioning-request.ts';
import type { RequestClaims } from '../../use-cases/ports.ts';
import { conditionalUpdate, isConditionFailure } from './conditional.ts';
import { finalWrite } from './final-state.ts';
import { keys } from './keys.ts';
import { nextInSequence, requestFromItem } from './requests.ts';

/** The worker's claims on requests, and the final writes that hold only while the claim is still its own. */
export const createRequestClaims = (client: DynamoDBDocumentClient, tableName: string): RequestClaims => {
  const finish = async (
    request: ProvisioningRequest,
    claimId: string,
    state: 'COMPLETED' | 'REJECTED',
    at: Date,
    fields: Record<string, unknown>,
  ) => {
    try {
      const { Attributes } = await client.send(
        finalWrite({
          tableName,
          request,
          state,
          at,
          fields,
          condition: 'claimId = :claim',
          conditionValues: { ':claim': claimId },
        }),
      );
      return requestFromItem(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
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

    complete(request, claimId, c) {
      return finish(request, claimId, 'COMPLETED', c.executedAt, {
        executedAt: c.executedAt.toISOString(),
        referenceNumber: c.referenceNumber,
        sequenceNumber: c.sequenceNumber,
        processId: c.processId,
        request: c.request,
        response: c.response,
      });
    },

    reject(request, claimId, r) {
      return finish(request, claimId, 'REJECTED', r.executedAt, {
        executedAt: r.executedAt.toISOString(),
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
