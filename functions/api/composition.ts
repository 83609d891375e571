import { createDynamoClients } from '../adapters/dynamo/document-client.ts';
import { createReferenceStore } from '../adapters/dynamo/reference-data.ts';
import { createRequestStore } from '../adapters/dynamo/requests.ts';
import { createSessionStore } from '../adapters/dynamo/sessions.ts';
import { createUserStore } from '../adapters/dynamo/users.ts';
import { createIdempotencyGuard } from '../adapters/idempotency.ts';
import { createSqsClient, createWorkQueue } from '../adapters/work-queue.ts';
import { apiConfigSchema, loadConfig } from '../platform/config.ts';

/** The API function's composition root: configuration and SDK clients are made once per instance. */
export const config = loadConfig(apiConfigSchema, process.env);
const { base, document: documentClient } = createDynamoClients();
const now = () => new Date();

export const sessions = createSessionStore(documentClient, config.TABLE_NAME);
export const idempotency = createIdempotencyGuard(base, config.IDEMPOTENCY_TABLE_NAME);

export const loginDependencies = { users: createUserStore(documentClient, config.TABLE_NAME), sessions, now };

export const requests = createRequestStore(documentClient, config.TABLE_NAME);

export const createDependencies = {
  sessions,
  reference: createReferenceStore(documentClient, config.TABLE_NAME),
  requests,
  queue: createWorkQueue(createSqsClient(), config.QUEUE_URL),
  idempotency,
  now,
  timeZone: config.OPERATOR_TIME_ZONE,
  dueShards: config.DUE_SHARDS,
  immediateGraceMs: config.IMMEDIATE_GRACE_SECONDS * 1000,
};

export const showDependencies = { sessions, requests, now, timeZone: config.OPERATOR_TIME_ZONE };
