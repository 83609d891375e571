import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createDynamoClients } from '../adapters/dynamo/document-client.ts';
import { createProcessingStore } from '../adapters/dynamo/processing.ts';
import { createSqsClient, createWorkQueue } from '../adapters/work-queue.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import { loadConfig, processingRunConfigSchema } from '../platform/config.ts';
import { logger } from '../platform/observability.ts';
import { processDue } from '../use-cases/process-due.ts';

const config = loadConfig(processingRunConfigSchema, process.env);
const { document } = createDynamoClients();

const dependencies = {
  store: createProcessingStore(document, config.TABLE_NAME),
  queue: createWorkQueue(createSqsClient(), config.QUEUE_URL),
  now: () => new Date(),
  dueShards: config.DUE_SHARDS,
  dispatchWindowMs: config.LEASE_SECONDS * 1000,
  pageSize: config.DUE_PAGE_SIZE,
  dispatchLimit: config.DISPATCH_LIMIT_PER_RUN,
};

/** The EventBridge-scheduled processing run: hands due requests on within its time budget. */
export const handler = middy<ScheduledEvent>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics())
  .use({ before: ({ event }) => logger.setCorrelationId(event.id) })
  .handler(async (_event, context) =>
    processDue(dependencies, Math.min(config.PROCESSING_RUN_BUDGET_MS, context.getRemainingTimeInMillis() - 5_000)),
  );
