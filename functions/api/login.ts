import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { jsonObjectBody } from '../middleware/json-body.ts';
import { login } from '../use-cases/login.ts';
import { loginDependencies } from './composition.ts';

/** POST /authentication/token */
export const loginRoute = middy<APIGatewayProxyEvent>()
  .use(jsonObjectBody())
  .handler(async (event) => ok(await login(loginDependencies, event.body)));
