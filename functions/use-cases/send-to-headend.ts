import type { HeadendClient } from '../adapters/headend/generic.ts';
import { newId } from '../domain/identifiers.ts';
import {
  dueSince,
  HEADEND_UNAVAILABLE,
  isPastDeadline,
  type RetryPolicy,
  retryDelayMs,
} from '../domain/retry-policy.ts';
import { logger, metrics } from '../platform/observability.ts';
import type { ProcessingStore } from './ports.ts';

export type SendToHeadendDependencies = {
  store: ProcessingStore;
  headend: HeadendClient;
  now: () => Date;
  leaseMs: number;
  retry: RetryPolicy;
};

/** What the caller does with the queue message: done (delete it) or retry after a delay. */
export type SendResult =
  | { kind: 'done'; state: 'COMPLETED' | 'REJECTED' | 'NOT_CLAIMED' }
  | { kind: 'retry'; delayMs: number };

/**
 * Send one request to the headend (SPEC §3), at most once at a time.
 * 1. Claim it with a conditional write and a lease; if it is final or someone else holds it, stop (the lease
 *    end is its next due time, so a holder that dies is replaced by the processing run).
 * 2. Call the headend with the request id as `transaction_id`, so a repeat after a crash executes nothing new.
 * 3. Accepted: COMPLETED with the reference and this deployment's sequence number. Refused: REJECTED with the
 *    headend's code. Transient: release the claim with a back-off, or REJECTED HEADEND_UNAVAILABLE past the
 *    deadline.
 */
export const sendToHeadend = async (
  deps: SendToHeadendDependencies,
  requestId: string,
  processId: string,
  signal?: AbortSignal,
  correlationId?: string,
): Promise<SendResult> => {
  const claimId = newId();
  const claimedAt = deps.now();
  const request = await deps.store.claim(requestId, claimId, claimedAt, new Date(claimedAt.getTime() + deps.leaseMs));
  if (!request) return { kind: 'done', state: 'NOT_CLAIMED' };

  const started = Date.now();
  const outcome = await deps.headend.send(
    { transactionId: request.id, smartcardCaId: request.smartcardCaId, priority: request.priority },
    signal,
  );
  metrics.addMetric('HeadendCalls', 'Count', 1);
  metrics.addMetric('HeadendLatency', 'Milliseconds', Date.now() - started);
  const now = deps.now();

  if (outcome.kind === 'accepted') {
    const sequenceNumber = await deps.store.nextSequenceNumber();
    await deps.store.complete(request.id, claimId, {
      executedAt: now,
      referenceNumber: outcome.referenceNumber,
      sequenceNumber,
      processId,
      request: outcome.request,
      response: outcome.response,
    });
    metrics.addMetric('RequestsCompleted', 'Count', 1);
    logger.info('Provisioning request completed', {
      requestId,
      correlationId,
      referenceNumber: outcome.referenceNumber,
    });
    return { kind: 'done', state: 'COMPLETED' };
  }

  if (outcome.kind === 'rejected') {
    await deps.store.reject(request.id, claimId, {
      executedAt: now,
      errorCode: outcome.errorCode,
      errorDescription: outcome.errorDescription,
      processId,
      request: outcome.request,
      response: outcome.response,
    });
    metrics.addMetric('RequestsRejected', 'Count', 1);
    logger.info('Provisioning request rejected by the headend', {
      requestId,
      correlationId,
      errorCode: outcome.errorCode,
    });
    return { kind: 'done', state: 'REJECTED' };
  }

  metrics.addMetric('HeadendErrors', 'Count', 1);
  if (outcome.reason === 'UNAUTHORIZED') {
    metrics.addMetric('HeadendUnauthorized', 'Count', 1);
    logger.error('The headend refused our credential; set the headend secret', { requestId, correlationId });
  } else {
    logger.warn('Headend call failed; will retry', {
      requestId,
      correlationId,
      reason: outcome.reason,
      status: outcome.status,
    });
  }
  if (isPastDeadline(dueSince(request), now, deps.retry)) {
    await deps.store.reject(request.id, claimId, {
      executedAt: now,
      errorCode: HEADEND_UNAVAILABLE,
      errorDescription: `The headend could not be reached before the deadline (last failure: ${outcome.reason})`,
      processId,
    });
    metrics.addMetric('RequestsRejected', 'Count', 1);
    logger.warn('Provisioning request rejected: headend unavailable until the deadline', { requestId, correlationId });
    return { kind: 'done', state: 'REJECTED' };
  }
  const delayMs = retryDelayMs(request.attempts, deps.retry);
  await deps.store.release(request.id, claimId, new Date(now.getTime() + delayMs + deps.leaseMs));
  return { kind: 'retry', delayMs };
};
