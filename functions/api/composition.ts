import { createReferenceStore } from '../adapters/dynamo/reference-data.ts';
import { createRequestStore } from '../adapters/dynamo/requests.ts';
import { createSessionStore } from '../adapters/dynamo/sessions.ts';
import { createUserStore } from '../adapters/dynamo/users.ts';
import { createIdempotencyGuard } from '../adapters/idempotency.ts';
import { createWorkQueue } from '../adapters/work-queue.ts';
import { createDynamoClients, createSqsClient } from '../platform/aws-clients.ts';
import { apiEnvironment, loadEnvironment } from '../platform/environment.ts';
import { logger, metrics } from '../platform/observability.ts';

/** The API function's composition root: configuration and SDK clients are made once per instance. */
const env = loadEnvironment(apiEnvironment, process.env);
// Two attempts per DynamoDB call: a table that hangs answers 503 within about 4 s, well inside the timeout.
const { base, document } = createDynamoClients(2);
const now = () => new Date();
const telemetry = { log: logger, metrics };

const sessions = createSessionStore(document, env.TABLE_NAME);
const requests = createRequestStore(document, env.TABLE_NAME);
export const idempotency = createIdempotencyGuard(base, env.IDEMPOTENCY_TABLE_NAME);

export const loginDependencies = { users: createUserStore(document, env.TABLE_NAME), sessions, now };

export const releaseDependencies = { sessions, now };

export const clearPinDependencies = {
  ...telemetry,
  sessions,
  reference: createReferenceStore(document, env.TABLE_NAME),
  requests,
  queue: createWorkQueue(createSqsClient(), env.QUEUE_URL),
  idempotency,
  now,
  timeZone: env.OPERATOR_TIME_ZONE,
  dueShards: env.DUE_SHARDS,
  immediateGraceMs: env.IMMEDIATE_GRACE_SECONDS * 1000,
};

export const showDependencies = { sessions, requests, now, timeZone: env.OPERATOR_TIME_ZONE };
