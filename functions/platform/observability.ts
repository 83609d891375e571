import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and one metrics instance per function instance. Service name and namespace come from the
 * POWERTOOLS_* environment. Nothing secret is ever passed to them: tokens are hashed before they reach a log.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'clear-pin' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ClearPin',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'clear-pin',
});
