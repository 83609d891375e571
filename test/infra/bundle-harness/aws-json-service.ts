import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type LocalEndpoint, listenLocally } from '../../helpers/local-server.ts';

/** An operation's answer: the HTTP status and the JSON body. */
export type AwsJsonAnswer = readonly [status: number, body: Record<string, unknown>];

const reply = (response: ServerResponse, [status, body]: AwsJsonAnswer) => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
};

const readJson = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
};

/**
 * A local AWS service for the SDK, speaking the AWS JSON 1.1 protocol: each `X-Amz-Target` in `operations` is
 * answered by its function; any other is refused as AWS refuses an unknown operation, and a body that is not
 * JSON as AWS refuses it.
 */
export const startAwsJsonService = (
  operations: Readonly<Record<string, (body: Record<string, unknown>) => AwsJsonAnswer>>,
): Promise<LocalEndpoint> =>
  listenLocally(
    createServer((request, response) => {
      readJson(request)
        .then((body) => {
          const target = String(request.headers['x-amz-target']);
          const operation = operations[target];
          reply(
            response,
            operation
              ? operation(body)
              : [400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` }],
          );
        })
        .catch(() => reply(response, [400, { __type: 'SerializationException', message: 'The body is not JSON.' }]));
    }),
  );
