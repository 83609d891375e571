import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, Handler } from 'aws-lambda';
import { RESPONSE_HEADERS } from '../../functions/middleware/envelope.ts';

/** API Gateway's own payload limit; the handler enforces the API's much smaller one. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ApiHandler = Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;

export const lambdaContext = (functionName: string, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

const readBody = async (request: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

/** Turns a node request into the REST (v1) proxy event API Gateway would deliver. */
export const toProxyEvent = (request: IncomingMessage, body: Buffer): APIGatewayProxyEvent => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  // Maps, then Object.fromEntries: a name such as `__proto__` or `constructor` becomes an own property, as in
  // the JSON event Lambda delivers, instead of reaching Object.prototype (which crashed the front).
  const headerMap = new Map<string, string>();
  const multiHeaderMap = new Map<string, string[]>();
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    headerMap.set(name, value);
    multiHeaderMap.set(name, [...(multiHeaderMap.get(name) ?? []), value]);
  }
  const queryMap = new Map<string, string>();
  const multiQueryMap = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) {
    queryMap.set(name, value);
    multiQueryMap.set(name, [...(multiQueryMap.get(name) ?? []), value]);
  }
  const headers: Record<string, string> = Object.fromEntries(headerMap);
  const multiValueHeaders: Record<string, string[]> = Object.fromEntries(multiHeaderMap);
  const query: Record<string, string> = Object.fromEntries(queryMap);
  const multiQuery: Record<string, string[]> = Object.fromEntries(multiQueryMap);
  const hasQuery = queryMap.size > 0;
  const requestId = randomUUID();
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    // What is not UTF-8 travels as base64, as API Gateway passes a binary body, so the handler sees the bytes sent.
    body: body.length === 0 ? null : isUtf8(body) ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isUtf8(body),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method ?? 'GET',
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: url.pathname,
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      } as APIGatewayProxyEvent['requestContext']['identity'],
    },
  };
};

/**
 * An answer of the front itself, in the envelope and with the headers the gateway responses of the deployed stage
 * carry (infra/constructs/crm-rest-api.ts), so that no answer of the local stack is a bare one.
 */
const frontError = (status: number, code: string, message: string, description: string) => ({
  status,
  headers: { ...RESPONSE_HEADERS, Connection: 'close' },
  body: JSON.stringify({ status: { code, message, description }, data: null }),
});

/** Writes an answer straight on a socket that Node's server has handed over (no ServerResponse exists for it). */
const answerOnSocket = (socket: Duplex, answer: ReturnType<typeof frontError>) => {
  const head = Object.entries({ ...answer.headers, 'Content-Length': String(Buffer.byteLength(answer.body)) })
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n\r\n${answer.body}`);
};

/** The local HTTP front: each request becomes a proxy event for the deployed handler code. */
export const startApiFront = async (
  handler: ApiHandler,
  options: { port?: number; host?: string; functionName?: string; timeoutMs?: number } = {},
): Promise<{ url: string; server: Server; stop(): Promise<void> }> => {
  const send = (response: ServerResponse, answer: ReturnType<typeof frontError>) => {
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  };

  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own refusal of it would be a bare 400.
    if (request.httpVersion === '1.1' && request.headers.host === undefined) {
      return send(response, frontError(400, 'INVALID_REQUEST', 'The request is not valid HTTP.', 'Host'));
    }
    const body = await readBody(request);
    if (body === undefined) {
      return send(response, frontError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.', 'body'));
    }
    const event = toProxyEvent(request, body);
    const timeoutMs = options.timeoutMs ?? 29_000;
    const invocation = handler(
      event,
      lambdaContext(options.functionName ?? 'clear-pin-api', timeoutMs),
      () => undefined,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Lambda ends an invocation at its timeout, and API Gateway answers 502 in its DEFAULT_5XX envelope.
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const result = await Promise.race([invocation as Promise<APIGatewayProxyResult>, timedOut]).finally(() =>
      clearTimeout(timer),
    );
    if (result === undefined) {
      const requestId = event.requestContext.requestId;
      return send(response, frontError(502, 'INTERNAL_ERROR', 'An unexpected error occurred.', requestId));
    }
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  };
  // An unanswerable request target (e.g. `//[`) or a client gone mid-body must not crash the whole front.
  const server = createServer({ requireHostHeader: false }, (request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      send(
        response,
        (error as { code?: string }).code === 'ERR_INVALID_URL'
          ? frontError(400, 'INVALID_REQUEST', 'The request target is not valid.', 'path')
          : frontError(502, 'INTERNAL_ERROR', 'An unexpected error occurred.', 'front'),
      );
    });
  });
  // Requests Node's parser refuses (malformed, or headers over its limit) get the envelope too, as API Gateway's
  // DEFAULT_4XX answers them.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    answerOnSocket(
      socket,
      tooLarge
        ? frontError(431, 'INVALID_REQUEST', 'The request headers are too large.', 'headers')
        : frontError(400, 'INVALID_REQUEST', 'The request is not valid HTTP.', 'request'),
    );
  });
  // Node would answer any Expect but 100-continue with a bare 417, and drop a CONNECT without a word.
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) =>
    send(response, frontError(417, 'INVALID_REQUEST', 'The request expectation cannot be met.', 'Expect')),
  );
  server.on('connect', (request: IncomingMessage, socket: Duplex) =>
    answerOnSocket(socket, frontError(404, 'NOT_FOUND', 'There is no such method.', `CONNECT ${request.url}`)),
  );
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
