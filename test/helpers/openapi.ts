import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Api, Envelope, Query, Reply } from './http.ts';
import { ROUTES } from './http.ts';

/**
 * Two things the API-hardening tests need beyond helpers/http.ts:
 * 1. The OpenAPI document (docs/openapi.json) as a standard validator sees it: ajv's JSON Schema 2020-12 dialect
 *    (OpenAPI 3.1's), reading the document itself, `$ref`s to `#/components/...` resolved inside it. Never the zod
 *    schemas the document is generated from: the point is to check the published document against real answers.
 * 2. Requests that fetch cannot send: raw bytes as the body, header lists with repeated names in chosen letter case,
 *    and bytes on a bare socket (malformed HTTP).
 */

// ---------------------------------------------------------------------------------------------------------------
// The document

type Json = Record<string, unknown>;
type HeaderObject = { required?: boolean; schema?: Json; $ref?: string };
type ResponseObject = {
  $ref?: string;
  content?: Record<string, { schema?: Json }>;
  headers?: Record<string, HeaderObject>;
};
type Parameter = { name: string; in: string; required?: boolean; schema?: Json };
type OperationObject = {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, ResponseObject>;
};
export type OpenApiDocument = { paths: Record<string, Record<string, OperationObject>>; components: Json };

export const OPENAPI_PATH = join(import.meta.dirname, '..', '..', 'docs', 'openapi.json');
export const OPENAPI: OpenApiDocument = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));

/** The routes of SPEC §2.6 and §2.7 (helpers/http.ts restates every route from SPEC on purpose). */
export const MORE_ROUTES = { list: ROUTES.list, cancel: ROUTES.cancel } as const;

export type Operation = { method: 'GET' | 'POST'; path: string };

/** The six operations of SPEC §2, restated from SPEC on purpose (not read from the document under test). */
export const OPERATIONS = {
  login: { method: 'POST', path: ROUTES.login },
  release: { method: 'POST', path: ROUTES.release },
  clearPin: { method: 'POST', path: ROUTES.clearPin },
  show: { method: 'GET', path: ROUTES.show },
  list: { method: 'GET', path: MORE_ROUTES.list },
  cancel: { method: 'POST', path: MORE_ROUTES.cancel },
} as const satisfies Record<string, Operation>;

/** The id under which the whole document is known to ajv, so its own `#/components/...` references resolve. */
const DOCUMENT_ID = 'https://clear-pin.test/openapi.json';

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
// The document's top-level OpenAPI fields are not JSON Schema keywords; declared as annotations so strict mode
// accepts the document as the root of its schemas (nothing in them is validated as a schema).
ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'webhooks', 'components']);
ajv.addSchema(OPENAPI, DOCUMENT_ID);

/** A JSON pointer into the document, each segment escaped (RFC 6901) and URI-encoded (it travels as a fragment). */
const pointer = (...segments: string[]) =>
  segments.map((s) => `/${encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');

const validators = new Map<string, ValidateFunction>();
/** The validator of the schema at `at` (a pointer into the document), compiled once. */
const validatorAt = (at: string): ValidateFunction => {
  let validate = validators.get(at);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${at}` });
    validators.set(at, validate);
  }
  return validate;
};

const describeErrors = (what: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    (e) => `${what}${e.instancePath || ''}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)} (${e.schemaPath})`,
  );

/** What keeps `value` from matching the schema at `at`: an empty list when it matches. */
export const schemaProblems = (at: string, value: unknown, what = 'value'): string[] => {
  const validate = validatorAt(at);
  return validate(value) ? [] : describeErrors(what, validate.errors);
};

const operationAt = ({ method, path }: Operation) => pointer('paths', path, method.toLowerCase());

const operationOf = (operation: Operation): OperationObject | undefined =>
  OPENAPI.paths[operation.path]?.[operation.method.toLowerCase()];

/** Follows a local `$ref` (`#/components/responses/…`) to its object and its pointer. */
const deref = <T extends { $ref?: string }>(object: T, at: string): { object: T; at: string } => {
  if (object.$ref === undefined) return { object, at };
  if (!object.$ref.startsWith('#/')) throw new Error(`only local references are followed: ${object.$ref}`);
  const segments = object.$ref
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s).replaceAll('~1', '/').replaceAll('~0', '~'));
  let target: unknown = OPENAPI;
  for (const segment of segments) target = (target as Json)[segment];
  return deref(target as T, pointer(...segments));
};

/** A header's value as the JSON value its schema speaks of: a decimal header is a number when the schema wants one. */
const headerValue = (text: string, schema: Json | undefined): unknown =>
  (schema?.type === 'integer' || schema?.type === 'number') && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;

const mediaTypeOf = (reply: Reply) => reply.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';

/** What keeps a reply from being the response object at `at`: content type, body schema, declared headers. */
const responseObjectProblems = (response: ResponseObject, at: string, reply: Reply): string[] => {
  const resolved = deref(response, at);
  const problems: string[] = [];
  const content = resolved.object.content ?? {};
  const mediaType = mediaTypeOf(reply);
  if (!(mediaType in content)) {
    problems.push(`content type ${mediaType || '(none)'} is not declared (${Object.keys(content).join(', ')})`);
  } else if (content[mediaType]?.schema !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch {
      return [...problems, `the body is not JSON: ${reply.text.slice(0, 200)}`];
    }
    problems.push(...schemaProblems(`${resolved.at}${pointer('content', mediaType, 'schema')}`, body, 'body'));
  }
  for (const [name, declared] of Object.entries(resolved.object.headers ?? {})) {
    const header = deref(declared, `${resolved.at}${pointer('headers', name)}`);
    const value = reply.headers.get(name);
    if (value === null) {
      if (header.object.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (header.object.schema !== undefined) {
      problems.push(
        ...schemaProblems(
          `${header.at}${pointer('schema')}`,
          headerValue(value, header.object.schema),
          `header ${name}=${value}`,
        ),
      );
    }
  }
  return problems;
};

/**
 * What keeps a real reply of `operation` from being what the document declares: the status is one of the
 * operation's responses, the body matches that response's schema, and each header it declares required is there
 * with a valid value. An empty list when the reply conforms.
 */
export const responseProblems = (operation: Operation, reply: Reply): string[] => {
  const declared = operationOf(operation);
  if (!declared) return [`${operation.method} ${operation.path} is not in the document`];
  const status = String(reply.status);
  const response = declared.responses[status] ?? declared.responses.default;
  if (!response) {
    return [
      `HTTP ${status} (${reply.body?.status?.code}) is not declared for ${operation.method} ${operation.path}` +
        ` (declared: ${Object.keys(declared.responses).join(', ')})`,
    ];
  }
  const key = declared.responses[status] ? status : 'default';
  return responseObjectProblems(response, `${operationAt(operation)}${pointer('responses', key)}`, reply);
};

/** What keeps an answer to an unknown route from being the document's `components.responses.NotFound`. */
export const notFoundProblems = (reply: Reply): string[] => {
  const at = pointer('components', 'responses', 'NotFound');
  const response = (OPENAPI.components.responses as Record<string, ResponseObject> | undefined)?.NotFound;
  if (!response) return ['the document has no components.responses.NotFound'];
  return [
    ...(reply.status === 404 ? [] : [`HTTP ${reply.status} where NotFound is 404`]),
    ...responseObjectProblems(response, at, reply),
  ];
};

/** What keeps `body` from being a valid JSON request body of `operation` for the document (empty: valid). */
export const requestBodyProblems = (operation: Operation, body: unknown): string[] => {
  const declared = operationOf(operation);
  if (!declared) return [`${operation.method} ${operation.path} is not in the document`];
  if (declared.requestBody?.content?.['application/json']?.schema === undefined) {
    return [`${operation.method} ${operation.path} declares no JSON request body`];
  }
  return schemaProblems(
    `${operationAt(operation)}${pointer('requestBody', 'content', 'application/json', 'schema')}`,
    body,
    'request body',
  );
};

/**
 * What keeps a request's query and headers from matching the operation's declared parameters: each required one
 * present, each present one valid for its schema, and no query parameter the document does not declare (the
 * service refuses those as UNKNOWN_PARAMETER, so the document's list must be the whole list). A parameter given
 * twice is checked as the array a form-style validator reads it as. Empty: valid.
 */
export const parameterProblems = (
  operation: Operation,
  request: { query?: Query; headers?: Record<string, string> },
): string[] => {
  const declared = operationOf(operation);
  if (!declared) return [`${operation.method} ${operation.path} is not in the document`];
  const parameters = declared.parameters ?? [];
  const problems: string[] = [];
  const query = request.query ?? {};
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([n, v]) => [n.toLowerCase(), v]));
  for (const name of Object.keys(query)) {
    if (!parameters.some((p) => p.in === 'query' && p.name === name)) problems.push(`query ${name} is not declared`);
  }
  parameters.forEach((parameter, index) => {
    const value = parameter.in === 'query' ? query[parameter.name] : headers[parameter.name.toLowerCase()];
    if (parameter.in !== 'query' && parameter.in !== 'header') return;
    if (value === undefined) {
      if (parameter.required) problems.push(`required ${parameter.in} parameter ${parameter.name} is missing`);
      return;
    }
    if (parameter.schema !== undefined) {
      problems.push(
        ...schemaProblems(
          `${operationAt(operation)}${pointer('parameters', String(index), 'schema')}`,
          value,
          `${parameter.in} ${parameter.name}`,
        ),
      );
    }
  });
  return problems;
};

// ---------------------------------------------------------------------------------------------------------------
// Requests fetch cannot send

const replyOf = (status: number, headers: Headers, text: string): Reply => {
  let body: Envelope | undefined;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    body = undefined;
  }
  return { status, headers, text, body };
};

/**
 * One HTTP request through node:http with exactly the header lines given (`rawHeaders` as name, value, name,
 * value …: repeated names and their letter case are kept) and exactly the bytes given as the body. Host and
 * Content-Length are added unless given.
 */
export const rawRequest = (
  api: Api,
  options: { method?: string; path: string; rawHeaders?: string[]; body?: Buffer },
): Promise<Reply> => {
  const url = new URL(api.apiUrl);
  const given = (options.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  const rawHeaders = [
    ...(given.includes('host') ? [] : ['Host', url.host]),
    ...(options.rawHeaders ?? []),
    ...(given.includes('content-length') || options.body === undefined
      ? []
      : ['Content-Length', String(options.body.length)]),
  ];
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? 'POST', path: options.path, headers: rawHeaders },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
          }
          resolve(replyOf(res.statusCode ?? 0, headers, Buffer.concat(chunks).toString('utf8')));
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
};

/** POSTs exactly these bytes as the body, with one `Content-Type: application/json`. */
export const postBytes = (api: Api, path: string, body: Buffer) =>
  rawRequest(api, { path, rawHeaders: ['Content-Type', 'application/json'], body });

/** Reads an HTTP/1.1 response from the bytes a server wrote (Content-Length, chunked, or up to the close). */
const parseResponse = (bytes: Buffer): Reply => {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return replyOf(0, new Headers(), bytes.toString('latin1'));
  const [statusLine = '', ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let rest = bytes.subarray(headEnd + 4);
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = [];
    for (;;) {
      const sizeEnd = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.subarray(0, sizeEnd).toString('latin1'), 16);
      if (!(size > 0)) break;
      chunks.push(rest.subarray(sizeEnd + 2, sizeEnd + 2 + size));
      rest = rest.subarray(sizeEnd + 2 + size + 2);
    }
    rest = Buffer.concat(chunks);
  } else if (headers.get('content-length') !== null) {
    rest = rest.subarray(0, Number(headers.get('content-length')));
  }
  return replyOf(Number(statusLine.split(' ')[1]), headers, rest.toString('utf8'));
};

/**
 * Writes `bytes` on a new TCP connection to the API front, half-closes it, and reads what comes back until the
 * server closes: for requests an HTTP client refuses to send (a malformed request line, headers over the limit).
 * `status` is 0 when the server closed without answering.
 */
export const rawExchange = (api: Api, bytes: string | Buffer): Promise<Reply> => {
  const url = new URL(api.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer was read is the server closing its side; before it, a failure.
      if (chunks.length > 0 && error.code === 'ECONNRESET') return;
      reject(error);
    });
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    socket.end(bytes);
  });
};
