import type { z } from 'zod';
import { cancelBodySchema } from '../../functions/domain/cancel-body.ts';
import { clearPinBodySchema } from '../../functions/domain/clear-pin-body.ts';
import { ERROR_STATUS, type ErrorCode } from '../../functions/domain/errors.ts';
import { listQuerySchema } from '../../functions/domain/list-query.ts';
import { loginBodySchema, releaseBodySchema } from '../../functions/domain/login-body.ts';
import { showQuerySchema } from '../../functions/domain/show-query.ts';

/** The API Gateway stage: every URL of a deployed stage starts with it. */
export const API_STAGE_NAME = 'v1';

/**
 * The HTTP routes of SPEC §2, with the zod schemas their handlers validate with. The REST API (its routes and
 * body models) and the OpenAPI document are both built from this list, so neither can drift from the handlers.
 */
export type Route = {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** The body's schema name in the OpenAPI document. */
  readonly modelName?: string;
  readonly body?: z.core.$ZodType;
  readonly query?: z.core.$ZodType;
  /** The codes of SPEC §2.5 that this route's handler can answer with. */
  readonly errors: readonly ErrorCode[];
};

/** Every route answers these when a dependency fails or the code has a bug. */
const ALWAYS: readonly ErrorCode[] = ['INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];
/** The body checks of SPEC §2.5 (size, media type, JSON object), run before anything else. */
const BODY: readonly ErrorCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'INVALID_REQUEST'];
const FIELDS: readonly ErrorCode[] = ['MISSING_PARAMETER', 'UNKNOWN_PARAMETER'];
/** The query's shape, judged before the token: a parameter given twice. */
const QUERY: readonly ErrorCode[] = ['INVALID_REQUEST'];

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/authentication/token',
    operationId: 'login',
    summary: 'Log in: returns a token that expires after 1 hour without use',
    modelName: 'LoginBody',
    body: loginBodySchema,
    errors: [...BODY, ...FIELDS, 'INVALID_VALUE', 'INVALID_CREDENTIALS', 'TOO_MANY_ATTEMPTS', ...ALWAYS],
  },
  {
    method: 'POST',
    path: '/authentication/token/release',
    operationId: 'releaseToken',
    summary: 'Release a token at once',
    modelName: 'ReleaseBody',
    body: releaseBodySchema,
    errors: [...BODY, 'INVALID_TOKEN', 'UNKNOWN_PARAMETER', ...ALWAYS],
  },
  {
    method: 'POST',
    path: '/nagravision/provisioning_requests/clear_pin',
    operationId: 'clearPin',
    summary: 'Create a Nagravision clear-PIN provisioning request (PENDING until the headend answers)',
    modelName: 'ClearPinBody',
    body: clearPinBodySchema,
    errors: [
      ...BODY,
      'INVALID_TOKEN',
      ...FIELDS,
      'INVALID_IDENTIFIER',
      'INVALID_DATE',
      'INVALID_VALUE',
      'SUBSCRIPTION_NOT_FOUND',
      'SMARTCARD_NOT_FOUND',
      'SMARTCARD_NOT_IN_SUBSCRIPTION',
      'NOT_A_NAGRAVISION_SMARTCARD',
      'IDEMPOTENCY_KEY_REUSED',
      'IDEMPOTENCY_KEY_IN_PROGRESS',
      ...ALWAYS,
    ],
  },
  {
    method: 'GET',
    path: '/provisioning/provisioning_requests/show',
    operationId: 'showProvisioningRequest',
    summary: 'Show a provisioning request, by id=<ID> or number=<N>, in its current state',
    query: showQuerySchema,
    errors: [
      ...QUERY,
      'INVALID_TOKEN',
      ...FIELDS,
      'INVALID_IDENTIFIER',
      'INVALID_VALUE',
      'PROVISIONING_REQUEST_NOT_FOUND',
      ...ALWAYS,
    ],
  },
  {
    method: 'GET',
    path: '/provisioning/provisioning_requests/list',
    operationId: 'listProvisioningRequests',
    summary: 'List provisioning requests of the token’s organisation, newest first, by any combination of filters',
    query: listQuerySchema,
    errors: [...QUERY, 'INVALID_TOKEN', ...FIELDS, 'INVALID_IDENTIFIER', 'INVALID_DATE', 'INVALID_VALUE', ...ALWAYS],
  },
  {
    method: 'POST',
    path: '/provisioning/provisioning_requests/cancel',
    operationId: 'cancelProvisioningRequest',
    summary: 'Cancel a PENDING provisioning request that no worker has taken: it ends REJECTED CANCELLED',
    modelName: 'CancelBody',
    body: cancelBodySchema,
    errors: [
      ...BODY,
      'INVALID_TOKEN',
      ...FIELDS,
      'INVALID_IDENTIFIER',
      'INVALID_VALUE',
      'PROVISIONING_REQUEST_NOT_FOUND',
      'REQUEST_IN_PROGRESS',
      'REQUEST_ALREADY_FINAL',
      ...ALWAYS,
    ],
  },
];

/** An error that API Gateway answers itself, before or instead of the function, in the same envelope. */
export type GatewayError = {
  /** API Gateway's gateway response type. */
  readonly responseType: string;
  /** Replaces the status API Gateway chose; absent keeps it (a DEFAULT_* response covers several). */
  readonly status?: number;
  readonly code: string;
  /** A JSON string literal, or `$context.error.messageString` (which API Gateway writes already quoted). */
  readonly message: string;
  /** A JSON string literal; only `$context` variables that cannot contain a quote may appear inside. */
  readonly description: string;
  readonly headers?: Readonly<Record<string, string>>;
};

const quoted = (text: string) => JSON.stringify(text);

/**
 * Errors raised by API Gateway itself. Each speaks the catalogue's code where one fits, so that a client
 * cannot tell whether the gateway or the function refused it. Two codes are not in SPEC §2.5 because only
 * the gateway produces them: NOT_FOUND (a route or method the API does not have; the function's router
 * answers the same) and TOO_MANY_REQUESTS (stage throttling, distinct from the login lock-out's
 * TOO_MANY_ATTEMPTS).
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  {
    // API Gateway answers an unknown path or method with 403 "Missing Authentication Token".
    responseType: 'MISSING_AUTHENTICATION_TOKEN',
    status: 404,
    code: 'NOT_FOUND',
    message: quoted('There is no such method.'),
    description: quoted(''),
  },
  {
    responseType: 'REQUEST_TOO_LARGE',
    status: ERROR_STATUS.PAYLOAD_TOO_LARGE,
    code: 'PAYLOAD_TOO_LARGE',
    message: quoted('The request body is too large.'),
    description: quoted('body'),
  },
  {
    responseType: 'THROTTLED',
    status: 429,
    code: 'TOO_MANY_REQUESTS',
    message: quoted('Too many requests; retry later.'),
    description: quoted(''),
    headers: { 'Retry-After': '1' },
  },
  {
    responseType: 'DEFAULT_4XX',
    code: 'INVALID_REQUEST',
    message: '$context.error.messageString',
    description: quoted(''),
  },
  {
    // 502 (the function failed or answered garbage), 504 (it timed out): a bug or an outage; the request id
    // is the correlation id, also in the access log.
    responseType: 'DEFAULT_5XX',
    code: 'INTERNAL_ERROR',
    message: quoted('An unexpected error occurred.'),
    description: quoted('$context.requestId'),
  },
];

/** The CRM.COM envelope (SPEC §2) as an API Gateway response template. */
export const envelopeTemplate = (error: GatewayError): string =>
  `{"status":{"code":${quoted(error.code)},"message":${error.message},"description":${error.description}},"data":null}`;
