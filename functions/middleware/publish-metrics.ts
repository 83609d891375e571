import type { MiddlewareObj } from '@middy/core';
import { metrics } from '../platform/observability.ts';

/**
 * Flushes the invocation's EMF metrics. Unlike Powertools' logMetrics, it stays silent when a route recorded
 * none (a show or a login), instead of logging a warning on every such call.
 */
export const publishMetrics = (): MiddlewareObj => {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
};
