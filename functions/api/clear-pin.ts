import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import { ok } from '../middleware/envelope.ts';
import { headerOf, jsonObjectBody } from '../middleware/json-body.ts';
import { authenticate } from '../use-cases/authenticate.ts';
import { createClearPin } from '../use-cases/create-clear-pin.ts';
import { createDependencies, idempotency } from './dependencies.ts';

// Printable ASCII, space included (HTTP has already trimmed any leading or trailing space).
const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,128}$/;

/** The Idempotency-Key header; a bad one is a field error, so the token is judged first (SPEC §2.5 order). */
const idempotencyKeyOf = async (event: APIGatewayProxyEvent): Promise<string | undefined> => {
  const key = headerOf(event, 'idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    await authenticate(createDependencies.sessions, event.body, createDependencies.now());
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
    const key = await idempotencyKeyOf(event);
    idempotency.registerContext(context);
    return ok(await createClearPin(createDependencies, event.body, key));
  });
