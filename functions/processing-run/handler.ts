import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createDueIndex } from '../adapters/dynamo/due-index.ts';
import { createEventOutbox } from '../adapters/dynamo/event-outbox.ts';
import { eventPublisherFor } from '../adapters/events.ts';
import { createWorkQueue } from '../adapters/work-queue.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import {
  createDynamoClients,
  createEventBridgeClient,
  createSqsClient,
  withDeadline,
} from '../platform/aws-clients.ts';
import { loadEnvironment } from '../platform/environment.ts';
import { CORRELATION_PATHS, logger, metrics } from '../platform/observability.ts';
import { processDue } from '../use-cases/process-due.ts';
import { publishPendingEvents } from '../use-cases/publish-events.ts';
import { processingRunEnvironment } from './environment.ts';

const env = loadEnvironment(processingRunEnvironment, process.env);
const { document } = createDynamoClients();

const dependencies = {
  log: logger,
  metrics,
  due: createDueIndex(document, env.TABLE_NAME),
  events: eventPublisherFor(env, createEventBridgeClient),
  outbox: createEventOutbox(document, env.TABLE_NAME),
  timeZone: env.OPERATOR_TIME_ZONE,
  queue: createWorkQueue(createSqsClient(), env.QUEUE_URL),
  now: () => new Date(),
  dueShards: env.DUE_SHARDS,
  dispatchWindowMs: env.LEASE_SECONDS * 1000,
  pageSize: env.DUE_PAGE_SIZE,
  dispatchLimit: env.DISPATCH_LIMIT_PER_RUN,
};

/** Left of the timeout when the run stops handing on and when its last call is cut: to report and return. */
const RESERVE_MS = 5_000;

/** Events the sweep publishes per run at most (one BatchGetItem reads their requests). */
const EVENT_SWEEP_LIMIT = 100;

/**
 * The EventBridge-scheduled processing run: hands due requests on within its time budget, then publishes the
 * events that final writes left in the outbox (SPEC §3.1).
 */
export const handler = middy<ScheduledEvent>()
  .use(injectLambdaContext(logger, { correlationIdPath: CORRELATION_PATHS.scheduledEvent }))
  .use(publishMetrics())
  .handler(async (event, context) => {
    const remaining = context.getRemainingTimeInMillis() - RESERVE_MS;
    return withDeadline(AbortSignal.timeout(Math.max(0, remaining)), async () => {
      const handedOn = await processDue(dependencies, {
        budgetMs: Math.min(env.PROCESSING_RUN_BUDGET_MS, remaining),
        correlationId: event.id,
      });
      const events = await publishPendingEvents(dependencies, EVENT_SWEEP_LIMIT);
      return { ...handedOn, events };
    });
  });
