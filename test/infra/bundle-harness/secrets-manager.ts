import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StoredSecret = { readonly arn: string; readonly name: string; readonly value: string };

const reply = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
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
 * A local Secrets Manager for the SDK: an HTTP server speaking the AWS JSON 1.1 protocol, answering
 * `secretsmanager.GetSecretValue` (by ARN or name) for the secrets it holds, the way the service does.
 * Anything else is refused as the service refuses an unknown operation.
 */
export const startSecretsManager = async (
  secrets: readonly StoredSecret[],
): Promise<{ endpoint: string; stop(): Promise<void> }> => {
  const versions = new Map(secrets.map((secret) => [secret.arn, randomUUID()]));
  const createdSeconds = Math.floor(Date.now() / 1000);
  const server = createServer((request, response) => {
    readJson(request)
      .then((body) => {
        const target = request.headers['x-amz-target'];
        if (target !== 'secretsmanager.GetSecretValue') {
          return reply(response, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
        }
        const secret = secrets.find((s) => s.arn === body.SecretId || s.name === body.SecretId);
        if (!secret) {
          return reply(response, 400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        }
        return reply(response, 200, {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: versions.get(secret.arn),
          SecretString: secret.value,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: createdSeconds,
        });
      })
      .catch(() => reply(response, 400, { __type: 'SerializationException', message: 'The body is not JSON.' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
