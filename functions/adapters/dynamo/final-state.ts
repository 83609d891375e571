import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LifeCycleState, ProvisioningRequest } from '../../domain/provisioning-request.ts';
import { EVENT_SHARDS, keys } from './keys.ts';

/**
 * The one write that makes a request final (COMPLETED by the worker, REJECTED by the worker or by a cancel): its
 * fields, its move to the new state's `list` partition, its place in the events outbox, and its leaving the due
 * index and any claim — all in one conditional UpdateItem, so a final state never goes without its event.
 */
export const finalWrite = (options: {
  tableName: string;
  request: Pick<ProvisioningRequest, 'id' | 'organisation' | 'priority'>;
  state: Exclude<LifeCycleState, 'PENDING'>;
  at: Date;
  fields: Record<string, unknown>;
  condition: string;
  conditionValues: Record<string, unknown>;
}): UpdateCommand => {
  const { request, state, at } = options;
  const names: Record<string, string> = { '#state': 'lifeCycleState' };
  const values: Record<string, unknown> = {
    ':state': state,
    ':listKey': keys.listPartition(request.organisation, state, request.priority),
    ':eventShard': keys.eventShard(Number.parseInt(request.id.slice(0, 8), 16) % EVENT_SHARDS),
    ':eventAt': at.toISOString(),
    ...options.conditionValues,
  };
  const sets = ['#state = :state', 'listKey = :listKey', 'eventShard = :eventShard', 'eventAt = :eventAt'];
  for (const [name, value] of Object.entries({ ...options.fields, updatedAt: at.toISOString() })) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  return new UpdateCommand({
    TableName: options.tableName,
    Key: { pk: keys.request(request.id) },
    UpdateExpression: `SET ${sets.join(', ')} REMOVE dueShard, dueAt, leaseUntil, claimId`,
    ConditionExpression: options.condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
  });
};
