import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event as a PutEvents entry gave it, the detail parsed. */
export type PutEvent = { bus: string; source: string; detailType: string; detail: Record<string, unknown> };

const reply = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  response.end(text);
};

const readJson = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
};

/**
 * A local EventBridge for the SDK: an HTTP server speaking the AWS JSON 1.1 protocol, answering `AWSEvents.PutEvents`
 * for the buses it knows (an unknown bus fails its entry, as EventBridge does) and keeping what it was sent.
 */
export const startEventBridge = async (
  buses: readonly string[],
): Promise<{ endpoint: string; events: PutEvent[]; stop(): Promise<void> }> => {
  const events: PutEvent[] = [];
  const server = createServer((request, response) => {
    readJson(request)
      .then((body) => {
        const target = request.headers['x-amz-target'];
        if (target !== 'AWSEvents.PutEvents') {
          return reply(response, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
        }
        const entries = (body.Entries ?? []) as Record<string, string>[];
        const results = entries.map((entry) => {
          const bus = entry.EventBusName ?? 'default';
          if (!buses.includes(bus)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `No bus ${bus}` };
          events.push({
            bus,
            source: entry.Source ?? '',
            detailType: entry.DetailType ?? '',
            detail: JSON.parse(entry.Detail ?? '{}'),
          });
          return { EventId: randomUUID() };
        });
        return reply(response, 200, {
          FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
          Entries: results,
        });
      })
      .catch(() => reply(response, 400, { __type: 'SerializationException', message: 'The body is not JSON.' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
