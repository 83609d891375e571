import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import { errorEnvelope } from '../middleware/error-envelope.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import { logger } from '../platform/observability.ts';
import { clearPinRoute } from './clear-pin.ts';
import { loginRoute } from './login.ts';
import { releaseTokenRoute } from './release-token.ts';
import { showRequestRoute } from './show-request.ts';

const router = httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>({
  routes: [
    { method: 'POST', path: '/authentication/token', handler: loginRoute },
    { method: 'POST', path: '/authentication/token/release', handler: releaseTokenRoute },
    { method: 'POST', path: '/nagravision/provisioning_requests/clear_pin', handler: clearPinRoute },
    { method: 'GET', path: '/provisioning/provisioning_requests/show', handler: showRequestRoute },
  ],
  notFoundResponse: ({ method, path }) => {
    throw new ApiError('NOT_FOUND', 'There is no such method.', `${method} ${path}`);
  },
});

/** The API Lambda: one function, one router, the envelope and logging around every route. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  // Never the event: its body and query carry passwords and tokens, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use({ before: ({ event }) => logger.setCorrelationId(event.requestContext?.requestId) })
  .use(publishMetrics())
  .use(errorEnvelope())
  .handler(router);
