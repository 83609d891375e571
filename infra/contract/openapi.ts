import { z } from 'zod';
import { IDEMPOTENCY_KEY_PATTERN } from '../../functions/domain/clear-pin-body.ts';
import { ERROR_STATUS } from '../../functions/domain/errors.ts';
import {
  queryIdentifierPattern,
  REQUEST_IDENTIFIER_FIELDS,
  SMARTCARD_FIELDS,
  SUBSCRIPTION_FIELDS,
} from '../../functions/domain/identifiers.ts';
import {
  emptyDataSchema,
  provisioningEventSchema,
  provisioningRequestSchema,
  tokenDataSchema,
} from './response-schemas.ts';
import { API_STAGE_NAME, GATEWAY_ERRORS, ROUTES, type Route } from './routes.ts';

type Schema = Record<string, unknown>;

const jsonSchema = (schema: z.core.$ZodType, io: 'input' | 'output'): Schema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as Schema;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const envelope = (data: Schema): Schema => ({
  type: 'object',
  required: ['status', 'data'],
  properties: { status: ref('OkStatus'), data },
});

const errorEnvelope = (codes: readonly string[]): Schema => ({
  type: 'object',
  required: ['status', 'data'],
  properties: {
    status: {
      type: 'object',
      required: ['code', 'message', 'description'],
      properties: {
        code: { type: 'string', enum: codes },
        message: { type: 'string', description: 'One short human sentence' },
        description: {
          type: 'string',
          description: 'The field or identifier involved; for INTERNAL_ERROR and SERVICE_UNAVAILABLE a correlation id',
        },
      },
    },
    data: { type: 'null' },
  },
});

const retryAfter = (required: boolean) => ({
  'Retry-After': { description: 'Seconds to wait before retrying', required, schema: { type: 'integer', minimum: 1 } },
});
const CACHE_CONTROL = {
  'Cache-Control': {
    description: 'Never cached: tokens and subscriber data',
    required: true,
    schema: { const: 'no-store' },
  },
};
/** Codes whose answers say when to retry (SPEC §2.5). */
const RETRY_CODES = new Set([
  'IDEMPOTENCY_KEY_IN_PROGRESS',
  'TOO_MANY_ATTEMPTS',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
]);
const THROTTLED = GATEWAY_ERRORS.find((e) => e.responseType === 'THROTTLED');

/** The error responses of a route, grouped by HTTP status as SPEC §2.5 assigns them. */
const errorResponses = (route: Route): Record<string, Schema> => {
  const byStatus = new Map<number, string[]>();
  const add = (status: number, code: string) => byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  for (const code of route.errors) add(ERROR_STATUS[code], code);
  if (THROTTLED?.status !== undefined) add(THROTTLED.status, THROTTLED.code);
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, codes]) => [
        String(status),
        {
          description: codes.join(', '),
          headers: {
            ...CACHE_CONTROL,
            ...(codes.some((c) => RETRY_CODES.has(c)) && retryAfter(codes.every((c) => RETRY_CODES.has(c)))),
          },
          content: { 'application/json': { schema: errorEnvelope(codes) } },
        },
      ]),
  );
};

const SUCCESS_DATA: Record<string, Schema> = {
  login: ref('TokenData'),
  releaseToken: ref('EmptyData'),
  clearPin: ref('ProvisioningRequest'),
  showProvisioningRequest: {
    description: 'The request; with fields_set, only the listed fields, in the same order',
    anyOf: [ref('ProvisioningRequest'), ref('ProvisioningRequestFields')],
  },
  listProvisioningRequests: {
    type: 'array',
    maxItems: 50,
    description: 'Newest created_date first, ties by number highest first; with fields_set, only the listed fields',
    items: { anyOf: [ref('ProvisioningRequest'), ref('ProvisioningRequestFields')] },
  },
  cancelProvisioningRequest: ref('ProvisioningRequest'),
};

const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  token: 'A live token from POST /authentication/token',
  provisioning_request_identifier: 'id=<ID> or number=<NUMBER>, e.g. number=18579',
  fields_set: 'Comma-separated fields of the request to return (default: all)',
  life_cycle_state: 'Only requests in this state',
  subscription_identifier: 'id=<ID> or number=<NUMBER> of a subscription; an unknown one lists nothing',
  smartcard_identifier:
    'id=<ID>, serial_number=<S> or alternative_code=<C> of a smartcard; an unknown one lists nothing',
  created_date_from: 'Created at or after (the formats of scheduled_date, in the operator time zone)',
  created_date_to: 'Created at or before, inclusive: a date covers its whole day, a time its whole second',
  priority: 'Only requests of this priority',
  number_of_results: 'Page size, 1–50 (default 50)',
  offset: 'Requests skipped before the page, 0–10000 (default 0)',
};

/** What the handlers check with code (zod refinements have no JSON Schema), stated as patterns. */
const PARAMETER_PATTERNS: Record<string, RegExp> = {
  provisioning_request_identifier: queryIdentifierPattern(REQUEST_IDENTIFIER_FIELDS),
  subscription_identifier: queryIdentifierPattern(SUBSCRIPTION_FIELDS),
  smartcard_identifier: queryIdentifierPattern(SMARTCARD_FIELDS),
};

const queryParameters = (query: z.core.$ZodType) => {
  const schema = jsonSchema(query, 'input') as { properties: Record<string, Schema>; required?: string[] };
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    description: PARAMETER_DESCRIPTIONS[name],
    schema: PARAMETER_PATTERNS[name] ? { ...property, pattern: PARAMETER_PATTERNS[name].source } : property,
  }));
};

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Scoped to the user. A repeat with the same key and the same request (compared after parsing; the token is not part of it) returns the first response and creates nothing, for as long as the request is kept (at least 24 hours); the same key with another request is 422 IDEMPOTENCY_KEY_REUSED; a repeat racing the first is 409 IDEMPOTENCY_KEY_IN_PROGRESS with Retry-After.',
  schema: { type: 'string', minLength: 1, maxLength: 128, pattern: IDEMPOTENCY_KEY_PATTERN.source },
};

const operation = (route: Route): Schema => ({
  operationId: route.operationId,
  summary: route.summary,
  ...((route.query || route.operationId === 'clearPin') && {
    parameters: [
      ...(route.query ? queryParameters(route.query) : []),
      ...(route.operationId === 'clearPin' ? [IDEMPOTENCY_KEY] : []),
    ],
  }),
  ...(route.body &&
    route.modelName && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: ref(route.modelName) } },
      },
    }),
  responses: {
    '200': {
      description: 'OK',
      headers: CACHE_CONTROL,
      content: { 'application/json': { schema: envelope(SUCCESS_DATA[route.operationId] ?? {}) } },
    },
    ...errorResponses(route),
  },
});

/**
 * The OpenAPI 3.1 document of the API, generated from the same route list and zod schemas as the REST API
 * and the handlers. `npm run openapi` writes it to docs/openapi.json; a test fails when that file drifts.
 */
export const openApiDocument = (version: string): Schema => {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  const bodies = Object.fromEntries(
    ROUTES.flatMap((r) =>
      r.body && r.modelName ? [[r.modelName, withRules(r.modelName, jsonSchema(r.body, 'input'))]] : [],
    ),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nagravision clear-PIN provisioning (CRM.COM compatible)',
      version,
      description:
        'Every response, success or error, is the CRM.COM envelope {"status": {"code", "message", "description"}, "data"}, with Cache-Control: no-store. Errors answer the first failing check in this order: the body (size in bytes received, media type, a JSON object in UTF-8), the token, the fields, the look-ups. Bodies are limited to 16 KiB. Paths are exact: any other path or method, a trailing slash included, answers 404 NOT_FOUND (components.responses.NotFound); throttling answers 429 TOO_MANY_REQUESTS with Retry-After, and the gateway\'s own failures (502, 504) INTERNAL_ERROR, in the same envelope. Every look-up is scoped to the organisation of the token.',
    },
    servers: [
      {
        url: `https://{apiId}.execute-api.{region}.amazonaws.com/${API_STAGE_NAME}`,
        description: 'A deployed stage (its ApiUrl stack output)',
        variables: { apiId: { default: 'abcdef1234' }, region: { default: 'eu-west-1' } },
      },
      { url: 'http://127.0.0.1:3000', description: 'The local stack (npm start)' },
    ],
    paths,
    webhooks: {
      provisioningRequestFinal: {
        post: {
          summary:
            'Each request that reaches COMPLETED or REJECTED (cancels included), posted to the site’s event endpoints by EventBridge API destinations (locally to EVENTS_WEBHOOK_URL)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ProvisioningEvent') } } },
          responses: { '200': { description: 'Any 2xx acknowledges the event; anything else is retried for 24 h' } },
        },
      },
    },
    components: {
      schemas: {
        ...bodies,
        OkStatus: {
          type: 'object',
          required: ['code', 'message', 'description'],
          properties: {
            code: { const: 'OK' },
            message: { const: '' },
            description: { const: '' },
          },
        },
        TokenData: jsonSchema(tokenDataSchema, 'output'),
        EmptyData: jsonSchema(emptyDataSchema, 'output'),
        ProvisioningRequest: jsonSchema(provisioningRequestSchema, 'output'),
        ProvisioningRequestFields: {
          ...jsonSchema(provisioningRequestSchema.partial().strict(), 'output'),
          description: 'The fields named in fields_set, in CRM.COM’s order',
          minProperties: 1,
        },
        ProvisioningEvent: jsonSchema(provisioningEventSchema, 'output'),
      },
      responses: {
        NotFound: {
          description:
            'Any other path or method, a trailing slash included (paths are exact): 404 NOT_FOUND, in the envelope',
          headers: CACHE_CONTROL,
          content: { 'application/json': { schema: errorEnvelope(['NOT_FOUND']) } },
        },
      },
    },
  };
};

/**
 * Rules the handlers apply that zod's JSON Schema cannot state: exactly one field of an identifier object, and
 * one spelling of the organisation at least (SPEC §2.1, §2.3).
 */
const withRules = (modelName: string, schema: Schema): Schema => {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  if (modelName === 'LoginBody') {
    return { ...schema, anyOf: [{ required: ['organisation'] }, { required: ['organization'] }] };
  }
  return {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [
        name,
        name.endsWith('_identifier') ? exactlyOneField(property) : property,
      ]),
    ),
  };
};

const exactlyOneField = (identifier: Schema): Schema => ({
  ...identifier,
  minProperties: 1,
  maxProperties: 1,
  properties: Object.fromEntries(
    Object.entries((identifier.properties ?? {}) as Record<string, Schema>).map(([field, value]) => [
      field,
      { ...value, minLength: 1 },
    ]),
  ),
});

/** The document as stored in docs/openapi.json. */
export const openApiJson = (version: string): string => `${JSON.stringify(openApiDocument(version), null, 2)}\n`;
