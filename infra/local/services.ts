import { mkdirSync } from 'node:fs';
import { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { startFauxqs } from 'fauxqs';
import { TABLE_INDEXES } from '../table-schema.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  path?: string;
}) => import('node:http').Server;

/** Local AWS: fixed fake credentials and region; the SDK never reaches AWS. */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

export type LocalService = { endpoint: string; stop(): Promise<void> };

/** A dependency that can be taken down and brought back with its data, to test outages. */
export type InterruptibleService = LocalService & { interrupt(): Promise<void>; resume(): Promise<void> };

/** dynalite, in-process. With `dataDir` it keeps its data on disk, so a restart loses nothing. */
export const startDynamo = async (options: { dataDir?: string; port?: number } = {}): Promise<InterruptibleService> => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, ...(options.dataDir ? { path: options.dataDir } : {}) });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
    // Node's own close/listen, not dynalite's (which would also close its database): connections are refused
    // while the data stays, and the same port answers again on resume.
    interrupt: () =>
      new Promise((resolve) => {
        Server.prototype.close.call(server, () => resolve());
        server.closeAllConnections?.();
      }),
    resume: () =>
      new Promise((resolve) => {
        Server.prototype.listen.call(server, { port, host: '127.0.0.1' }, () => resolve());
      }),
  };
};

/** The main table as the stateful stack defines it (keys, indexes); TTL is not set because dynalite has none. */
export const tableDefinition = (tableName: string): CreateTableCommandInput => {
  const attributes = new Set([
    'pk',
    ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])]),
  ]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
      ],
      Projection: index.include
        ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] }
        : { ProjectionType: 'KEYS_ONLY' },
    })),
  };
};

/** Creates the main table unless it exists (a restart on kept data finds it). */
export const createTable = async (endpoint: string, tableName: string) => {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(new CreateTableCommand(tableDefinition(tableName))).catch((error: unknown) => {
    if (!(error instanceof ResourceInUseException)) throw error;
  });
  client.destroy();
};

export type LocalQueues = LocalService & { queueUrl: string; deadLetterQueueUrl: string };

/**
 * fauxqs, in-process: the work queue and its dead-letter queue, with the redrive policy of the stateful stack
 * (a message received `maxReceiveCount` times moves to the DLQ).
 */
export const startQueues = async (
  options: { queueName?: string; maxReceiveCount?: number; visibilityTimeoutSeconds?: number; dataDir?: string } = {},
): Promise<LocalQueues> => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = await startFauxqs({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const name = options.queueName ?? 'work';
  const dlq = server.createQueue(`${name}-dlq`, { attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } });
  const queue = server.createQueue(name, {
    attributes: {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: options.maxReceiveCount ?? 5,
      }),
    },
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  return { endpoint, queueUrl: queue.queueUrl, deadLetterQueueUrl: dlq.queueUrl, stop: () => server.stop() };
};
