import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { showRequest } from '../use-cases/show-request.ts';
import { showDependencies } from './composition.ts';
import { singleValuedQuery } from './query.ts';

/** GET /provisioning/provisioning_requests/show */
export const showRequestRoute = middy<APIGatewayProxyEvent>().handler(async (event) =>
  ok(await showRequest(showDependencies, singleValuedQuery(event))),
);
