import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InterruptibleService, LOCAL_AWS_ENV, startDynamo } from '../../infra/local/services.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';

/**
 * The test tool the reliability suites stand on: the TCP fault proxy in front of a real HTTP server and of
 * dynalite. Cut resets connections; a black hole takes them and never answers nor closes them, so a client ends
 * only by its own timeout; restore lets new connections through again.
 */
let server: Server;
let serverUrl: string;
let requestsSeen = 0;
let proxy: FaultProxy;

beforeAll(async () => {
  server = createServer((req, res) => {
    requestsSeen += 1;
    req.resume();
    res.end('pong');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy = await startFaultProxy();
  proxy.setTarget(serverUrl);
});

afterAll(async () => {
  await proxy?.stop();
  server?.closeAllConnections();
  server?.close();
});

beforeEach(() => {
  proxy.restore();
});

/** A GET through the proxy on `agent`, given up after `timeoutMs`: the answer's text. */
const get = (agent: Agent, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    const outgoing = request(`${proxy.url}/ping`, { agent, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      let text = '';
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => resolve(text));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });

describe('the fault proxy', () => {
  it('passes requests through, and answers none while cut (the connection is reset)', async () => {
    const agent = new Agent();
    expect(await get(agent, 2_000)).toBe('pong');
    proxy.cut();
    await expect(get(agent, 2_000)).rejects.toMatchObject({ code: 'ECONNRESET' });
    proxy.restore();
    expect(await get(agent, 2_000)).toBe('pong');
    agent.destroy();
  });

  it('black hole: takes a connection, answers nothing, closes nothing; the client times out', async () => {
    proxy.blackHole();
    const before = requestsSeen;
    const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1');
    await once(socket, 'connect');
    let received = 0;
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.write('GET /ping HTTP/1.1\r\nHost: proxy\r\n\r\n');

    const agent = new Agent();
    await expect(get(agent, 300)).rejects.toMatchObject({ name: 'AbortError' });
    // While that client waited for its own timeout, the raw connection got no byte and was not closed either.
    expect({ received, closed }).toEqual({ received: 0, closed: false });
    expect(requestsSeen).toBe(before);
    socket.destroy();
    agent.destroy();
  });

  it('black hole: silences a pooled keep-alive connection too, and new connections pass once restored', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(agent, 2_000)).toBe('pong');
    proxy.blackHole();
    await expect(get(agent, 300)).rejects.toMatchObject({ name: 'AbortError' });
    proxy.restore();
    expect(await get(agent, 2_000)).toBe('pong');
    agent.destroy();
  });
});

describe('an AWS SDK client against a black-holed DynamoDB', () => {
  let dynamo: InterruptibleService;
  let dynamoProxy: FaultProxy;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamo();
    dynamoProxy = await startFaultProxy();
    dynamoProxy.setTarget(dynamo.endpoint);
    client = new DynamoDBClient({
      endpoint: dynamoProxy.url,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 300, throwOnRequestTimeout: true }),
    });
  });

  afterAll(async () => {
    client?.destroy();
    await dynamoProxy?.stop();
    await dynamo?.stop();
  });

  it('times out by its own request timeout, and reaches DynamoDB again once the proxy is restored', async () => {
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    dynamoProxy.blackHole();
    await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    dynamoProxy.restore();
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
  });
});
