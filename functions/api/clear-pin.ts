import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ok } from '../middleware/envelope.ts';
import { headerValues, jsonObjectBody } from '../middleware/json-body.ts';
import { createClearPin } from '../use-cases/create-clear-pin.ts';
import { clearPinDependencies } from './composition.ts';

/** POST /nagravision/provisioning_requests/clear_pin */
export const clearPinRoute = middy<APIGatewayProxyEvent>()
  .use(jsonObjectBody())
  .handler(async (event) => {
    const view = await createClearPin(clearPinDependencies, {
      body: event.body,
      idempotencyKeys: headerValues(event, 'idempotency-key'),
      correlationId: event.requestContext?.requestId,
    });
    return ok(view);
  });
