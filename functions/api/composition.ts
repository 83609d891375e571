import { createEventOutbox } from '../adapters/dynamo/event-outbox.ts';
import { createLoginAttemptStore } from '../adapters/dynamo/login-attempts.ts';
import { createReferenceStore } from '../adapters/dynamo/reference-data.ts';
import { createRequestList } from '../adapters/dynamo/request-list.ts';
import { createRequestStore } from '../adapters/dynamo/requests.ts';
import { createSessionStore } from '../adapters/dynamo/sessions.ts';
import { createUserStore } from '../adapters/dynamo/users.ts';
import { eventPublisherFor } from '../adapters/events.ts';
import { createWorkQueue } from '../adapters/work-queue.ts';
import { createDynamoClients, createEventBridgeClient, createSqsClient } from '../platform/aws-clients.ts';
import { loadEnvironment } from '../platform/environment.ts';
import { logger, metrics } from '../platform/observability.ts';
import { apiEnvironment } from './environment.ts';

/** The API function's composition root: configuration and SDK clients are made once per instance. */
const env = loadEnvironment(apiEnvironment, process.env);
// Two attempts per DynamoDB call: a table that hangs answers 503 within about 4 s, well inside the timeout.
const { document } = createDynamoClients(2);
const now = () => new Date();

const sessions = createSessionStore(document, env.TABLE_NAME);
const requests = createRequestStore(document, env.TABLE_NAME);

export const loginDependencies = {
  users: createUserStore(document, env.TABLE_NAME),
  attempts: createLoginAttemptStore(document, env.TABLE_NAME),
  sessions,
  now,
};

export const releaseDependencies = { sessions, now };

export const clearPinDependencies = {
  log: logger,
  metrics,
  sessions,
  reference: createReferenceStore(document, env.TABLE_NAME),
  requests,
  queue: createWorkQueue(createSqsClient(), env.QUEUE_URL),
  now,
  timeZone: env.OPERATOR_TIME_ZONE,
  dueShards: env.DUE_SHARDS,
  immediateGraceMs: env.IMMEDIATE_GRACE_SECONDS * 1000,
};

export const showDependencies = { sessions, requests, now, timeZone: env.OPERATOR_TIME_ZONE };

export const listDependencies = {
  sessions,
  list: createRequestList(document, env.TABLE_NAME),
  now,
  timeZone: env.OPERATOR_TIME_ZONE,
};

export const cancelDependencies = {
  log: logger,
  metrics,
  sessions,
  requests,
  events: eventPublisherFor(env, createEventBridgeClient),
  outbox: createEventOutbox(document, env.TABLE_NAME),
  now,
  timeZone: env.OPERATOR_TIME_ZONE,
};
