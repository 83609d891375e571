import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Reads up to 100 items by `pk` in one BatchGetItem (strongly consistent: a released token must be refused at
 * once), re-asking only for keys DynamoDB left unprocessed. Answers the items by pk.
 */
export const batchGetByPk = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  pks: string[],
): Promise<Map<string, Record<string, unknown>>> => {
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = [...new Set(pks)].map((pk) => ({ pk }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 10));
    if (attempt > 5) throw new Error('BatchGetItem left keys unprocessed after 5 retries');
    const { Responses, UnprocessedKeys } = await client.send(
      new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
    );
    for (const item of Responses?.[tableName] ?? []) found.set(item.pk as string, item);
    pending = (UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
  }
  return found;
};
