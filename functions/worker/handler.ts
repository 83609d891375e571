import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoClients } from '../adapters/dynamo/document-client.ts';
import { createProcessingStore } from '../adapters/dynamo/processing.ts';
import { createHttpHeadendClient } from '../adapters/headend/generic.ts';
import { createHeadendSecret } from '../adapters/headend/secret.ts';
import { createSqsClient, delayMessage, type WorkMessage } from '../adapters/work-queue.ts';
import { derivedId } from '../domain/identifiers.ts';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import { loadConfig, workerConfigSchema } from '../platform/config.ts';
import { logger } from '../platform/observability.ts';
import { sendToHeadend } from '../use-cases/send-to-headend.ts';

const config = loadConfig(workerConfigSchema, process.env);
const { document } = createDynamoClients();
const sqs = createSqsClient();
const secret = createHeadendSecret({ arn: config.HEADEND_SECRET_ARN, value: config.HEADEND_SECRET });
const leaseMs = config.LEASE_SECONDS * 1000;

const dependencies = {
  store: createProcessingStore(document, config.TABLE_NAME),
  headend: createHttpHeadendClient({
    url: config.HEADEND_URL,
    secret: secret.get,
    timeoutMs: config.HEADEND_TIMEOUT_MS,
    maxConcurrency: config.HEADEND_MAX_CONCURRENCY,
    maxPerSecond: config.HEADEND_MAX_PER_SECOND,
  }),
  now: () => new Date(),
  leaseMs,
  retry: {
    baseMs: config.RETRY_BASE_SECONDS * 1000,
    capMs: config.RETRY_CAP_SECONDS * 1000,
    minMs: DEFAULT_RETRY_POLICY.minMs,
    deadlineMs: config.HEADEND_DEADLINE_HOURS * 3600 * 1000,
  },
};

const processor = new BatchProcessor(EventType.SQS);

/** Thrown to leave a message on the queue for a later try; its visibility has already been set. */
class RetryLaterError extends Error {
  constructor(requestId: string) {
    super(`Request ${requestId} will be retried`);
    this.name = 'RetryLaterError';
  }
}

const parseMessage = (record: SQSRecord): string => {
  const { requestId } = JSON.parse(record.body) as Partial<WorkMessage>;
  if (typeof requestId !== 'string' || requestId === '')
    throw new Error(`Message ${record.messageId} has no requestId`);
  return requestId;
};

const handleRecord = async (record: SQSRecord, context: Context) => {
  const requestId = parseMessage(record);
  // Records run in parallel, so the correlation id goes into each log line rather than into the shared logger.
  const correlationId = record.messageAttributes.correlationId?.stringValue;
  // The Lambda's own deadline bounds the headend call, so the claim is never held past a killed invocation.
  const signal = AbortSignal.timeout(Math.max(1000, context.getRemainingTimeInMillis() - 2000));
  const result = await sendToHeadend(dependencies, requestId, derivedId(context.awsRequestId), signal, correlationId);
  if (result.kind === 'done') return;
  if (result.delayMs > 0 && Number(record.attributes.ApproximateReceiveCount) >= config.MAX_RECEIVE_COUNT - 1) {
    // One more receive would dead-letter a healthy request: let the processing run hand it on again instead.
    return;
  }
  await delayMessage(sqs, config.QUEUE_URL, record.receiptHandle, result.delayMs / 1000);
  throw new RetryLaterError(requestId);
};

/**
 * The SQS worker: each record is one request id; failures are reported per record (partial batch response),
 * so one bad message never sends its neighbours back to the queue.
 */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics())
  .handler(async (event, context) =>
    processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, { context }),
  );
