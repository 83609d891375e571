import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { jsonObjectBody } from '../middleware/json-body.ts';
import { cancelRequest } from '../use-cases/cancel-request.ts';
import { cancelDependencies } from './composition.ts';

/** POST /provisioning/provisioning_requests/cancel */
export const cancelRequestRoute = middy<APIGatewayProxyEvent>()
  .use(jsonObjectBody())
  .handler(async (event) => ok(await cancelRequest(cancelDependencies, event.body)));
