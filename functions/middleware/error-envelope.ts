import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import { isDependencyUnavailable } from '../platform/dependency-errors.ts';
import { logger, metrics } from '../platform/observability.ts';
import { failure } from './envelope.ts';

export const RETRY_AFTER_SECONDS = '5';

/**
 * Maps every error to CRM.COM's envelope: catalogue errors as they are, an unreachable dependency as 503 with
 * Retry-After, anything else as 500 whose description is a correlation id that is also in the log. Never a
 * stack trace in a response.
 */
export const errorEnvelope = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const { error } = request;
    if (error instanceof ApiError) {
      const retryAfter = error.retryAfterSeconds;
      request.response = failure(
        error.status,
        error.code,
        error.message,
        error.description,
        retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) },
      );
      return;
    }
    const correlationId = request.context.awsRequestId;
    if (isDependencyUnavailable(error)) {
      logger.error('Dependency unavailable', { correlationId, error: error as Error });
      metrics.addMetric('DependencyUnavailable', 'Count', 1);
      request.response = failure(
        503,
        'SERVICE_UNAVAILABLE',
        'The service is temporarily unavailable; retry later.',
        correlationId,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
      return;
    }
    logger.error('Unexpected error', { correlationId, error: error as Error });
    metrics.addMetric('InternalErrors', 'Count', 1);
    request.response = failure(500, 'INTERNAL_ERROR', 'An unexpected error occurred.', correlationId);
  },
});
