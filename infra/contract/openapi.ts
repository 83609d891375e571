import { z } from 'zod';
import { ERROR_STATUS } from '../../functions/domain/errors.ts';
import { emptyDataSchema, provisioningRequestSchema, tokenDataSchema } from './response-schemas.ts';
import { API_STAGE_NAME, GATEWAY_ERRORS, ROUTES, type Route } from './routes.ts';

type Schema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Schema => {
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

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };
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
          ...((status === 429 || status === 503) && { headers: RETRY_AFTER }),
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
    ...ref('ProvisioningRequest'),
    description: 'With fields_set, only the listed fields',
  },
};

const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  token: 'A live token from POST /authentication/token',
  provisioning_request_identifier: 'id=<ID> or number=<NUMBER>, e.g. number=18579',
  fields_set: 'Comma-separated fields of the request to return (default: all)',
};

const queryParameters = (query: z.ZodType) => {
  const schema = jsonSchema(query, 'input') as { properties: Record<string, Schema>; required?: string[] };
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    description: PARAMETER_DESCRIPTIONS[name],
    schema: property,
  }));
};

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'A repeat with the same key and body within 24 hours returns the first response and creates nothing; the same key with another body is IDEMPOTENCY_KEY_REUSED.',
  schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' },
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
    ROUTES.flatMap((r) => (r.body && r.modelName ? [[r.modelName, jsonSchema(r.body, 'input')]] : [])),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nagravision clear-PIN provisioning (CRM.COM compatible)',
      version,
      description:
        'Every response, success or error, is the CRM.COM envelope {"status": {"code", "message", "description"}, "data"}. Errors answer the first failing check in this order: the body (size, media type, JSON object), the token, the fields, the look-ups. Bodies are limited to 16 KiB. API Gateway answers unknown routes with 404 NOT_FOUND, throttling with 429 TOO_MANY_REQUESTS, and its own failures (502, 504) with INTERNAL_ERROR, in the same envelope.',
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
      },
    },
  };
};

/** The document as stored in docs/openapi.json. */
export const openApiJson = (version: string): string => `${JSON.stringify(openApiDocument(version), null, 2)}\n`;
