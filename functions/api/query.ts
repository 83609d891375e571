import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';

/**
 * The query of a GET route, each parameter given once. API Gateway keeps only the last of a repeated parameter in
 * `queryStringParameters`; a client that sent two values meant one of them, so the request is refused rather than
 * answered for a value it may not have meant. Checked before the token, as the body's shape is.
 */
export const singleValuedQuery = (event: APIGatewayProxyEvent): Record<string, string | undefined> => {
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if ((values?.length ?? 0) > 1) {
      throw new ApiError('INVALID_REQUEST', 'A parameter was given more than once.', `${name} must be given once`);
    }
  }
  return event.queryStringParameters ?? {};
};
