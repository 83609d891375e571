import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, Handler } from 'aws-lambda';

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
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
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

/** The local HTTP front: each request becomes a proxy event for the deployed handler code. */
export const startApiFront = async (
  handler: ApiHandler,
  options: { port?: number; host?: string; functionName?: string; timeoutMs?: number } = {},
): Promise<{ url: string; server: Server; stop(): Promise<void> }> => {
  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    if (body === undefined) {
      response.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' });
      response.end(
        JSON.stringify({
          status: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.', description: 'body' },
          data: null,
        }),
      );
      return;
    }
    const event = toProxyEvent(request, body);
    const timeoutMs = options.timeoutMs ?? 29_000;
    const invocation = handler(
      event,
      lambdaContext(options.functionName ?? 'clear-pin-api', timeoutMs),
      () => undefined,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Lambda ends an invocation at its timeout and API Gateway answers 502 in its DEFAULT_5XX envelope.
    const timedOut = new Promise<APIGatewayProxyResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            statusCode: 502,
            headers: { 'Content-Type': 'application/json; charset=utf-8' },
            body: JSON.stringify({
              status: {
                code: 'INTERNAL_ERROR',
                message: 'An unexpected error occurred.',
                description: event.requestContext.requestId,
              },
              data: null,
            }),
          }),
        timeoutMs,
      );
    });
    const result = await Promise.race([invocation as Promise<APIGatewayProxyResult>, timedOut]).finally(() =>
      clearTimeout(timer),
    );
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  };
  // An unanswerable request target (e.g. `//[`) or a client gone mid-body must not crash the whole front.
  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      const badTarget = (error as { code?: string }).code === 'ERR_INVALID_URL';
      response.writeHead(badTarget ? 400 : 502, { 'Content-Type': 'application/json; charset=utf-8' });
      response.end(
        JSON.stringify({
          status: badTarget
            ? { code: 'INVALID_REQUEST', message: 'The request target is not valid.', description: 'path' }
            : { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.', description: 'front' },
          data: null,
        }),
      );
    });
  });
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
