import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createEventOutbox } from '../../functions/adapters/dynamo/event-outbox.ts';
import { createRequestClaims } from '../../functions/adapters/dynamo/request-claims.ts';
import { droppingPublisher } from '../../functions/adapters/events.ts';
import { fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { createGenericHeadendClient } from '../../functions/adapters/headend/generic.ts';
import { DEFAULT_RETRY_POLICY } from '../../functions/domain/retry-policy.ts';
import { logger, metrics } from '../../functions/platform/observability.ts';
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
