import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import { ok } from '../middleware/envelope.ts';
import { headerOf, jsonObjectBody } from '../middleware/json-body.ts';
import { createClearPin } from '../use-cases/create-clear-pin.ts';
import { createDependencies, idempotency } from './dependencies.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,128}$/;

const idempotencyKeyOf = (event: APIGatewayProxyEvent): string | undefined => {
  const key = headerOf(event, 'idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      'Idempotency-Key must be 1–128 printable characters',
    );
  }
  return key;
};

/** POST /nagravision/provisioning_requests/clear_pin */
export const clearPinRoute = middy<APIGatewayProxyEvent>()
  .use(jsonObjectBody())
  .handler(async (event, context) => {
    const key = idempotencyKeyOf(event);
    idempotency.registerContext(context);
    return ok(await createClearPin(createDependencies, event.body, key));
  });
