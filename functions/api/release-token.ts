import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { jsonObjectBody } from '../middleware/json-body.ts';
import { releaseToken } from '../use-cases/release-token.ts';
import { releaseDependencies } from './composition.ts';

/** POST /authentication/token/release */
export const releaseTokenRoute = middy<APIGatewayProxyEvent>()
  .use(jsonObjectBody())
  .handler(async (event) => ok(await releaseToken(releaseDependencies, event.body)));
