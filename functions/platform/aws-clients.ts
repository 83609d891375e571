import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The SDK clients every function uses, created once per instance by its composition root, with deadlines that
 * throw. Two bounds apply to every DynamoDB, SQS, EventBridge and Secrets Manager call (SPEC §2.5: a dependency that hangs
 * is a dependency that is down):
 * - per attempt: the connection within `CONNECTION_TIMEOUT_MS`, the whole reply within `REQUEST_TIMEOUT_MS`
 *   (`throwOnRequestTimeout`: without it the handler only logs a warning and waits for ever);
 * - per invocation: inside `withDeadline(signal, …)` every call, and every retry the SDK would make, is aborted
 *   when the signal fires, so the function answers before its own timeout.
 */
export const CONNECTION_TIMEOUT_MS = 1_000;
export const REQUEST_TIMEOUT_MS = 2_000;

const invocation = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` with every SDK call inside it bounded by `signal`. */
export const withDeadline = <T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> =>
  invocation.run(signal, work);

/** Joins the invocation's deadline to each request the SDK sends. */
class DeadlineHttpHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>) {
    const deadline = invocation.getStore();
    if (!deadline) return super.handle(request, options);
    const own = options?.abortSignal as AbortSignal | undefined;
    return super.handle(request, { ...options, abortSignal: own ? AbortSignal.any([deadline, own]) : deadline });
  }
}

const requestHandler = () =>
  new DeadlineHttpHandler({
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  });

/**
 * `maxAttempts` per call: the API makes 2 so that a hung table answers 503 within about 4 s; the background
 * functions make 3.
 */
export const createDynamoClients = (maxAttempts = 3): { base: DynamoDBClient; document: DynamoDBDocumentClient } => {
  const base = new DynamoDBClient({ maxAttempts, requestHandler: requestHandler() });
  return { base, document: DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } }) };
};

// useQueueUrlAsEndpoint: the queue URL's host is not resolvable for local SQS (fauxqs); harmless in AWS.
export const createSqsClient = (maxAttempts = 2): SQSClient =>
  new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts, requestHandler: requestHandler() });

export const createSecretsManagerClient = (): SecretsManagerClient =>
  new SecretsManagerClient({ maxAttempts: 3, requestHandler: requestHandler() });

export const createEventBridgeClient = (): EventBridgeClient =>
  new EventBridgeClient({ maxAttempts: 2, requestHandler: requestHandler() });
