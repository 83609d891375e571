import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import { errorEnvelope } from '../middleware/error-envelope.ts';
import { publishMetrics } from '../middleware/publish-metrics.ts';
import { withDeadline } from '../platform/aws-clients.ts';
import { CORRELATION_PATHS, logger } from '../platform/observability.ts';
import { cancelRequestRoute } from './cancel-request.ts';
import { clearPinRoute } from './clear-pin.ts';
import { listRequestsRoute } from './list-requests.ts';
import { loginRoute } from './login.ts';
import { releaseTokenRoute } from './release-token.ts';
import { showRequestRoute } from './show-request.ts';

const routes = httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>({
  routes: [
    { method: 'POST', path: '/authentication/token', handler: loginRoute },
    { method: 'POST', path: '/authentication/token/release', handler: releaseTokenRoute },
    { method: 'POST', path: '/nagravision/provisioning_requests/clear_pin', handler: clearPinRoute },
    { method: 'GET', path: '/provisioning/provisioning_requests/show', handler: showRequestRoute },
    { method: 'GET', path: '/provisioning/provisioning_requests/list', handler: listRequestsRoute },
    { method: 'POST', path: '/provisioning/provisioning_requests/cancel', handler: cancelRequestRoute },
  ],
  notFoundResponse: ({ method, path }) => notFound(method, path),
});

const notFound = (method: string, path: string): never => {
  throw new ApiError('NOT_FOUND', 'There is no such method.', `${method} ${path}`);
};

/** The paths exactly as SPEC §2 names them: @middy/http-router would also take each one with a trailing slash. */
const router = (event: APIGatewayProxyEvent, context: Context) =>
  event.path.endsWith('/') ? notFound(event.httpMethod, event.path) : routes(event, context);

/**
 * Every DynamoDB and SQS call of an invocation ends this long before the function's timeout, so the client gets
 * the envelope (503, or 200 when the request is written and only the queue send was cut) instead of API
 * Gateway's 502.
 */
export const API_DEADLINE_RESERVE_MS = 1_000;

/** The API Lambda: one function, one router, the envelope and logging around every route. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  // Never the event: its body and query carry passwords and tokens, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { logEvent: false, correlationIdPath: CORRELATION_PATHS.apiGateway }))
  .use(publishMetrics())
  .use(errorEnvelope())
  .handler((event, context) =>
    withDeadline(AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - API_DEADLINE_RESERVE_MS)), () =>
      router(event, context),
    ),
  );
