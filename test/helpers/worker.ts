import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDueIndex } from '../../functions/adapters/dynamo/due-index.ts';
import { createEventOutbox } from '../../functions/adapters/dynamo/event-outbox.ts';
import { createRequestClaims } from '../../functions/adapters/dynamo/request-claims.ts';
import { droppingPublisher } from '../../functions/adapters/events.ts';
import { fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { createGenericHeadendClient } from '../../functions/adapters/headend/generic.ts';
import { createWorkQueue } from '../../functions/adapters/work-queue.ts';
import { DEFAULT_RETRY_POLICY } from '../../functions/domain/retry-policy.ts';
import { logger, metrics } from '../../functions/platform/observability.ts';
import type { ProcessDueDependencies } from '../../functions/use-cases/process-due.ts';
import type { SendToHeadendDependencies } from '../../functions/use-cases/send-to-headend.ts';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';

/** Retries fast enough for a test, with a deadline far beyond it. */
export const FAST_RETRY = { ...DEFAULT_RETRY_POLICY, baseMs: 100, capMs: 500, minMs: 100, deadlineMs: 60_000 };

/**
 * The worker's use case wired as the worker wires it, on a stack's table and the generic headend at `headendUrl`,
 * for tests that call it themselves to decide when a worker claims; events are dropped (their own tests publish).
 */
export const workerDependencies = (
  stack: { document: DynamoDBDocumentClient; tableName: string },
  headendUrl: string,
  overrides: Partial<SendToHeadendDependencies> = {},
): SendToHeadendDependencies => ({
  log: logger,
  metrics,
  claims: createRequestClaims(stack.document, stack.tableName),
  events: droppingPublisher,
  outbox: createEventOutbox(stack.document, stack.tableName),
  timeZone: 'UTC',
  headend: createGenericHeadendClient({
    url: headendUrl,
    secret: fixedCredential(DEFAULT_HEADEND_SECRET),
    timeoutMs: 2_000,
  }),
  now: () => new Date(),
  // Long enough that no lease runs out under a loaded machine: every overlap is a real race.
  leaseMs: 15_000,
  retry: FAST_RETRY,
  ...overrides,
});

/**
 * The processing run's use case wired as its Lambda wires it, on a stack's table and work queue, for tests that
 * fire runs themselves; `onDispatch` sees each batch of ids the run hands to the queue.
 */
export const processingDependencies = (
  stack: { document: DynamoDBDocumentClient; tableName: string; sqs: SQSClient; queueUrl: string },
  onDispatch: (ids: readonly string[]) => void,
  overrides: Partial<ProcessDueDependencies> = {},
): ProcessDueDependencies => {
  const queue = createWorkQueue(stack.sqs, stack.queueUrl);
  return {
    log: logger,
    metrics,
    due: createDueIndex(stack.document, stack.tableName),
    queue: {
      send(ids) {
        onDispatch(ids);
        return queue.send(ids);
      },
    },
    now: () => new Date(),
    dueShards: 4,
    dispatchWindowMs: 15_000,
    pageSize: 10,
    ...overrides,
  };
};
