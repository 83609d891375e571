import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '../use-cases/ports.ts';

/** The message the worker receives: only the request id; DynamoDB holds everything else. */
export type WorkMessage = { requestId: string };

const BATCH = 10;

export const createWorkQueue = (client: SQSClient, queueUrl: string): WorkQueue => ({
  async send(requestIds, correlationId) {
    const failed: string[] = [];
    const batches: string[][] = [];
    for (let i = 0; i < requestIds.length; i += BATCH) batches.push(requestIds.slice(i, i + BATCH));
    await Promise.all(
      batches.map(async (ids) => {
        try {
          const { Failed } = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: ids.map((requestId, index) => ({
                Id: String(index),
                MessageBody: JSON.stringify({ requestId } satisfies WorkMessage),
                MessageAttributes: correlationId
                  ? { correlationId: { DataType: 'String', StringValue: correlationId } }
                  : undefined,
              })),
            }),
          );
          for (const failure of Failed ?? []) failed.push(ids[Number(failure.Id)] as string);
        } catch {
          failed.push(...ids);
        }
      }),
    );
    return { failed };
  },
});

/** Hides a received message for `seconds` (SQS's own back-off for a retry); at most 12 hours. */
export const delayMessage = async (client: SQSClient, queueUrl: string, receiptHandle: string, seconds: number) => {
  await client.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.min(43_200, Math.max(0, Math.ceil(seconds))),
    }),
  );
};
