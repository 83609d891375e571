import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { LifeCycleState } from '../../functions/domain/provisioning-request.ts';

/**
 * Every stored provisioning request (items whose pk begins with REQ#), optionally in one state, up to `limit`.
 * A Scan: for operators, tests and benchmarks, never for the service's own paths (those read by key or
 * through the due index).
 */
export const scanRequests = async (
  document: DynamoDBDocumentClient,
  tableName: string,
  options: { state?: LifeCycleState; limit?: number } = {},
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const pages = paginateScan(
    { client: document },
    {
      TableName: tableName,
      FilterExpression: options.state ? 'begins_with(pk, :req) AND lifeCycleState = :state' : 'begins_with(pk, :req)',
      ExpressionAttributeValues: { ':req': 'REQ#', ...(options.state ? { ':state': options.state } : {}) },
    },
  );
  for await (const page of pages) {
    items.push(...(page.Items ?? []));
    if (items.length >= limit) break;
  }
  return items.slice(0, limit);
};
