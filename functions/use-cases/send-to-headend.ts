import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../domain/identifiers.ts';
import {
  decideLater,
  decideRetry,
  dueSince,
  HEADEND_UNAVAILABLE,
  type LaterDecision,
  type RetryPolicy,
} from '../domain/retry-policy.ts';
import type { HeadendClient, HeadendOutcome, RequestClaims } from './ports.ts';
import { announceFinalState, type PublishDependencies } from './publish-events.ts';

export type SendToHeadendDependencies = PublishDependencies & {
  claims: RequestClaims;
  headend: HeadendClient;
  now: () => Date;
  leaseMs: number;
  retry: RetryPolicy;
};

/** One queue message's work: which request, on whose behalf, and how often the queue has delivered it. */
export type SendJob = {
  requestId: string;
  /** The worker invocation that sends it (SPEC §3 `process_id`). */
  processId: string;
  receiveCount: number;
  correlationId?: string;
  /** The invocation's own deadline: no call outlives it, so a claim is never held past a killed invocation. */
  signal?: AbortSignal;
};

/** What the caller does with the queue message: done (delete it), or what the retry decision said. */
export type SendResult =
  | { kind: 'done'; state: 'COMPLETED' | 'REJECTED' | 'NOT_CLAIMED' }
  | Exclude<LaterDecision, { kind: 'reject' }>;

/**
 * Send one request to the headend (SPEC §3), at most once at a time.
 * 1. Claim it with a conditional write and a lease; if it is final or someone else holds it, stop (the lease
 *    end is its next due time, so a holder that dies is replaced by the processing run).
 * 2. Call the headend with the request id as `transaction_id`, so a repeat after a crash executes nothing new.
 * 3. Accepted: COMPLETED with the reference and this deployment's sequence number. Refused: REJECTED with the
 *    headend's code. Either way its event is published (SPEC §3.1).
 * 4. Transient: the retry decision (domain/retry-policy.ts) says call again now, reject at the deadline, or
 *    release the claim with a back-off for the queue or the processing run to bring it back.
 */
export const sendToHeadend = async (deps: SendToHeadendDependencies, job: SendJob): Promise<SendResult> => {
  const { requestId, processId, correlationId, signal } = job;
  const claimId = newId();
  const claimedAt = deps.now();
  const request = await deps.claims.claim(requestId, claimId, claimedAt, new Date(claimedAt.getTime() + deps.leaseMs));
  if (!request) return { kind: 'done', state: 'NOT_CLAIMED' };

  const command = { transactionId: request.id, smartcardCaId: request.smartcardCaId, priority: request.priority };
  for (let callAttempts = 1; ; callAttempts += 1) {
    const outcome = await callHeadend(deps, command, signal);
    const now = deps.now();

    if (outcome.kind === 'accepted') {
      const sequenceNumber = await deps.claims.nextSequenceNumber();
      const completed = await deps.claims.complete(request, claimId, {
        executedAt: now,
        referenceNumber: outcome.referenceNumber,
        sequenceNumber,
        processId,
        request: outcome.request,
        response: outcome.response,
      });
      deps.metrics.addMetric('RequestsCompleted', 'Count', 1);
      deps.log.info('Provisioning request completed', {
        requestId,
        correlationId,
        referenceNumber: outcome.referenceNumber,
      });
      if (completed) await announceFinalState(deps, completed);
      return { kind: 'done', state: 'COMPLETED' };
    }

    if (outcome.kind === 'rejected') {
      const rejected = await deps.claims.reject(request, claimId, {
        executedAt: now,
        errorCode: outcome.errorCode,
        errorDescription: outcome.errorDescription,
        processId,
        request: outcome.request,
        response: outcome.response,
      });
      deps.metrics.addMetric('RequestsRejected', 'Count', 1);
      deps.log.info('Provisioning request rejected by the headend', {
        requestId,
        correlationId,
        errorCode: outcome.errorCode,
      });
      if (rejected) await announceFinalState(deps, rejected);
      return { kind: 'done', state: 'REJECTED' };
    }

    const history = {
      callAttempts,
      claims: request.attempts,
      dueSince: dueSince(request),
      receiveCount: job.receiveCount,
    };
    const first = decideRetry(outcome.reason, history, now, deps.retry);
    logTransient(deps, outcome, { requestId, correlationId, decision: first.kind });
    if (first.kind === 'retry-now' && (await pause(first.delayMs, signal))) continue;
    // The invocation's deadline may have cut the pause short: then no more calls in this invocation either.
    const decision = first.kind === 'retry-now' ? decideLater(history, now, deps.retry) : first;
    if (decision.kind === 'reject') {
      const rejected = await deps.claims.reject(request, claimId, {
        executedAt: now,
        errorCode: HEADEND_UNAVAILABLE,
        errorDescription: `The headend could not be reached before the deadline (last failure: ${outcome.reason})`,
        processId,
      });
      deps.metrics.addMetric('RequestsRejected', 'Count', 1);
      deps.log.warn('Provisioning request rejected: headend unavailable until the deadline', {
        requestId,
        correlationId,
      });
      if (rejected) await announceFinalState(deps, rejected);
      return { kind: 'done', state: 'REJECTED' };
    }
    await deps.claims.release(request.id, claimId, new Date(now.getTime() + decision.delayMs + deps.leaseMs));
    return decision;
  }
};

/** Waits `ms`; false when the signal aborted first. */
const pause = async (ms: number, signal: AbortSignal | undefined): Promise<boolean> => {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
};

const callHeadend = async (
  deps: SendToHeadendDependencies,
  command: Parameters<HeadendClient['send']>[0],
  signal: AbortSignal | undefined,
): Promise<HeadendOutcome> => {
  const started = Date.now();
  const outcome = await deps.headend.send(command, signal);
  deps.metrics.addMetric('HeadendCalls', 'Count', 1);
  deps.metrics.addMetric('HeadendLatency', 'Milliseconds', Date.now() - started);
  if (outcome.kind === 'transient') deps.metrics.addMetric('HeadendErrors', 'Count', 1);
  return outcome;
};

const logTransient = (
  deps: SendToHeadendDependencies,
  outcome: Extract<HeadendOutcome, { kind: 'transient' }>,
  context: Record<string, unknown>,
) => {
  if (outcome.reason === 'UNAUTHORIZED') {
    deps.metrics.addMetric('HeadendUnauthorized', 'Count', 1);
    deps.log.error('The headend refused our credential; set the headend secret', context);
    return;
  }
  deps.log.warn('Headend call failed', { ...context, reason: outcome.reason, status: outcome.status });
};
