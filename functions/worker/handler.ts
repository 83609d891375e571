import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createEventOutbox } from '../adapters/dynamo/event-outbox.ts';
import { createRequestClaims } from '../adapters/dynamo/request-claims.ts';
import { eventPublisherFor } from '../adapters/events.ts';
import { parseCagOperatorAccount } from '../adapters/headend/cag-token.ts';
import { fixedCredential, secretsManagerCredential } from '../adapters/headend/credential.ts';
import { createGenericHeadendClient } from '../adapters/headend/generic.ts';
import { createCagHeadendClient } from '../adapters/headend/nagra-cag.ts';
import { delayMessage, type WorkMessage } from '../adapters/work-queue.ts';
import { derivedId } from '../domain/identifiers.ts';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import {
  createDynamoClients,
  createEventBridgeClient,
  createSecretsManagerClient,
  createSqsClient,
  withDeadline,
} from '../platform/aws-clients.ts';
import { loadEnvironment } from '../platform/environment.ts';
import { logger, metrics } from '../platform/observability.ts';
import type { HeadendClient } from '../use-cases/ports.ts';
import { sendToHeadend } from '../use-cases/send-to-headend.ts';
import { type WorkerEnvironment, workerEnvironment } from './environment.ts';

const env = loadEnvironment(workerEnvironment, process.env);
const { document } = createDynamoClients();
const sqs = createSqsClient();

/** The adapter of the stage's protocol (SPEC §4); the use case does not know which one it talks to. */
const headendFor = (config: WorkerEnvironment): HeadendClient => {
  const caps = {
    timeoutMs: config.HEADEND_TIMEOUT_MS,
    maxConcurrency: config.HEADEND_MAX_CONCURRENCY,
    maxPerSecond: config.HEADEND_MAX_PER_SECOND,
  };
  switch (config.HEADEND_PROTOCOL) {
    case 'generic':
      return createGenericHeadendClient({
        ...caps,
        url: config.HEADEND_URL as string,
        secret: config.HEADEND_SECRET_ARN
          ? secretsManagerCredential(createSecretsManagerClient(), config.HEADEND_SECRET_ARN, (value) => value)
          : fixedCredential(config.HEADEND_SECRET ?? ''),
      });
    case 'nagra-cag':
      return createCagHeadendClient({
        ...caps,
        baseUrl: config.HEADEND_URL as string,
        casInstanceName: config.HEADEND_CAG_CAS_INSTANCE as string,
        tenantId: config.HEADEND_CAG_TENANT_ID as string,
        operator: config.HEADEND_CAG_OPERATOR as string,
        tokenUrl: config.HEADEND_CAG_TOKEN_URL as string,
        clientId: config.HEADEND_CAG_CLIENT_ID as string,
        okCodes: config.HEADEND_CAG_OK_CODES,
        transientCodes: config.HEADEND_CAG_TRANSIENT_CODES,
        credential: config.HEADEND_SECRET_ARN
          ? secretsManagerCredential(createSecretsManagerClient(), config.HEADEND_SECRET_ARN, parseCagOperatorAccount)
          : fixedCredential({
              username: config.HEADEND_CAG_USERNAME as string,
              password: config.HEADEND_CAG_PASSWORD as string,
            }),
      });
    default:
      // The stage's site has not configured a headend: CDK deploys it with this trigger off (SPEC §6).
      throw new Error(`No headend adapter for HEADEND_PROTOCOL=${config.HEADEND_PROTOCOL}: processing is paused`);
  }
};

const dependencies = {
  log: logger,
  metrics,
  claims: createRequestClaims(document, env.TABLE_NAME),
  events: eventPublisherFor(env, createEventBridgeClient),
  outbox: createEventOutbox(document, env.TABLE_NAME),
  timeZone: env.OPERATOR_TIME_ZONE,
  headend: headendFor(env),
  now: () => new Date(),
  leaseMs: env.LEASE_SECONDS * 1000,
  retry: {
    ...DEFAULT_RETRY_POLICY,
    baseMs: env.RETRY_BASE_SECONDS * 1000,
    capMs: env.RETRY_CAP_SECONDS * 1000,
    deadlineMs: env.HEADEND_DEADLINE_HOURS * 3600 * 1000,
    maxReceiveCount: env.MAX_RECEIVE_COUNT,
  },
};

/**
 * Left of the timeout when headend calls are cut (so that the claim can still be released or recorded), and when
 * DynamoDB and SQS calls are cut (so that the batch response still gets out).
 */
const HEADEND_RESERVE_MS = 2_000;
const SDK_RESERVE_MS = 500;

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

const handleRecord = async (record: SQSRecord, context: Context, signal: AbortSignal) => {
  const requestId = parseMessage(record);
  const result = await sendToHeadend(dependencies, {
    requestId,
    processId: derivedId(context.awsRequestId),
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    // Records run in parallel, so the correlation id goes into each log line rather than into the shared logger.
    correlationId: record.messageAttributes.correlationId?.stringValue,
    signal,
  });
  // Done, or handed back to the processing run: the message has served its purpose either way.
  if (result.kind !== 'retry-later') return;
  await delayMessage(sqs, env.QUEUE_URL, record.receiptHandle, result.delayMs / 1000);
  throw new RetryLaterError(requestId);
};

/**
 * The SQS worker: each record is one request id; failures are reported per record (partial batch response),
 * so one bad message never sends its neighbours back to the queue. A batch whose every record is retried is
 * still a successful invocation: Lambda would otherwise count a function error and slow its polling down just
 * when the headend recovers.
 */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics())
  .handler(async (event, context) => {
    const remaining = context.getRemainingTimeInMillis();
    const headendSignal = AbortSignal.timeout(Math.max(1000, remaining - HEADEND_RESERVE_MS));
    return withDeadline(AbortSignal.timeout(Math.max(1500, remaining - SDK_RESERVE_MS)), () =>
      processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context, headendSignal), processor, {
        context,
        throwOnFullBatchFailure: false,
      }),
    );
  });
