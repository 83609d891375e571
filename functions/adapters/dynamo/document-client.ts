import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One client per Lambda instance (created at module scope by each function's composition root). Short
 * connection and request timeouts so an unreachable table becomes a quick 503, not a hung API call. The base
 * client is shared with Powertools idempotency, which speaks the low-level API.
 */
export const createDynamoClients = (): { base: DynamoDBClient; document: DynamoDBDocumentClient } => {
  const base = new DynamoDBClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  return { base, document: DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } }) };
};
