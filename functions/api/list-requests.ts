import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { listRequests } from '../use-cases/list-requests.ts';
import { listDependencies } from './composition.ts';
import { singleValuedQuery } from './query.ts';

/** GET /provisioning/provisioning_requests/list */
export const listRequestsRoute = middy<APIGatewayProxyEvent>().handler(async (event) =>
  ok(await listRequests(listDependencies, singleValuedQuery(event))),
);
