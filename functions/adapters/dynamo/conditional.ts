import type { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const isConditionFailure = (error: unknown): boolean =>
  (error as Error | undefined)?.name === 'ConditionalCheckFailedException';

/** Runs a conditional update; false when the condition did not hold (someone else got there first). */
export const conditionalUpdate = async (client: DynamoDBDocumentClient, command: UpdateCommand): Promise<boolean> => {
  try {
    await client.send(command);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
};
