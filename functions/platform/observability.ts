import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Powertools' `correlationIdPath` takes a search function; its own is JMESPath (a 23 KB parser). Our paths are
 * plain dotted property paths into the event, which this answers.
 */
export const searchPath = (path: string, data: unknown): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], data);

/**
 * One logger and one metrics instance per function instance. Service name and namespace come from the
 * POWERTOOLS_* environment. Nothing secret is ever passed to them: tokens are hashed before they reach a log.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'clear-pin',
  correlationIdSearchFn: searchPath,
});
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ClearPin',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'clear-pin',
});

/** Where each entry point finds its correlation id (API Gateway's request id, EventBridge's event id). */
export const CORRELATION_PATHS = { apiGateway: 'requestContext.requestId', scheduledEvent: 'id' } as const;
