import { backoffDelayMs } from './backoff.ts';

/** Error code written when the headend stayed unreachable until the deadline (SPEC §3). */
export const HEADEND_UNAVAILABLE = 'HEADEND_UNAVAILABLE';

export type RetryPolicy = {
  /** Quick retries inside one worker invocation, for a blip (a reset connection, one 503). */
  inCall: { retries: number; baseMs: number; capMs: number };
  /** Back-off between claims of the request, through the queue or the processing run. */
  baseMs: number;
  capMs: number;
  minMs: number;
  /** How long after the request became due it is given up on (SPEC §3: 24 h by default). */
  deadlineMs: number;
  /** The work queue's redrive maxReceiveCount. */
  maxReceiveCount: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  inCall: { retries: 1, baseMs: 100, capMs: 2_000 },
  baseMs: 5_000,
  capMs: 15 * 60_000,
  minMs: 1_000,
  deadlineMs: 24 * 60 * 60_000,
  maxReceiveCount: 5,
};

/**
 * Transient reasons a headend adapter reports: `UNAUTHORIZED` (our credential was refused: an operator
 * problem), `RATE_LIMITED`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED` (the invocation's own deadline),
 * `CONNECTION_ERROR`, `INVALID_RESPONSE`, `UNEXPECTED_STATUS`, `SECRET_UNAVAILABLE`; for CAG also `TOKEN_UNAVAILABLE`
 * (Keycloak unreachable) and `CAG_TRANSIENT` (a failed command whose code is one of the stage's transientCodes).
 */
export type TransientReason = string;

/** What is known when a headend call failed transiently. */
export type RetryHistory = {
  /** Calls made to the headend in this claim of the request, the failed one included. */
  callAttempts: number;
  /** Claims of the request so far, this one included. */
  claims: number;
  /** When the request became due (see `dueSince`): the deadline counts from there. */
  dueSince: string;
  /** How often the queue has delivered the message being worked on. */
  receiveCount: number;
};

/**
 * The one answer to "when is this retried?" (SPEC §3), for a transient failure:
 * - `retry-now`: call again inside this invocation after `delayMs` (a blip; never for a refused credential,
 *   which will not fix itself in milliseconds, nor once the invocation's own deadline has passed);
 * - `reject`: the deadline has passed, the request ends REJECTED HEADEND_UNAVAILABLE;
 * - `retry-later`: release the claim and leave the message hidden on the queue for `delayMs`;
 * - `hand-back`: release the claim and let the processing run hand the request on after `delayMs`, because one
 *   more receive of the message would move a healthy request to the dead-letter queue.
 */
export type RetryDecision =
  | { kind: 'retry-now'; delayMs: number }
  | { kind: 'reject' }
  | { kind: 'retry-later'; delayMs: number }
  | { kind: 'hand-back'; delayMs: number };

export type LaterDecision = Exclude<RetryDecision, { kind: 'retry-now' }>;

const NOT_RETRIED_IN_CALL = new Set<TransientReason>(['UNAUTHORIZED', 'ABORTED']);

export const decideRetry = (
  reason: TransientReason,
  history: RetryHistory,
  now: Date,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision => {
  if (!NOT_RETRIED_IN_CALL.has(reason) && history.callAttempts <= policy.inCall.retries) {
    return { kind: 'retry-now', delayMs: backoffDelayMs(history.callAttempts, policy.inCall, random) };
  }
  return decideLater(history, now, policy, random);
};

/** The decision once this invocation makes no more calls for the request. */
export const decideLater = (
  history: RetryHistory,
  now: Date,
  policy: RetryPolicy,
  random: () => number = Math.random,
): LaterDecision => {
  if (isPastDeadline(history.dueSince, now, policy)) return { kind: 'reject' };
  const delayMs = retryDelayMs(history.claims, policy, random);
  return history.receiveCount >= policy.maxReceiveCount - 1
    ? { kind: 'hand-back', delayMs }
    : { kind: 'retry-later', delayMs };
};

/** Delay before the next claim after `claims` claims: exponential with full jitter, never quite zero. */
export const retryDelayMs = (claims: number, policy: RetryPolicy, random: () => number = Math.random): number =>
  Math.max(policy.minMs, backoffDelayMs(claims, policy, random));

/**
 * When a request became due, which is where its retry deadline starts: its creation for a process-immediately
 * request (whatever its scheduled date), else the later of its scheduled date and its creation (a date in the
 * past is due at creation, so it must not eat into the deadline, nor exhaust it before the first try).
 */
export const dueSince = (request: { processImmediately: boolean; scheduledAt: string; createdAt: string }): string =>
  request.processImmediately || Date.parse(request.createdAt) > Date.parse(request.scheduledAt)
    ? request.createdAt
    : request.scheduledAt;

/** A request that became due (see `dueSince`) longer ago than the deadline is given up on instead of retried. */
export const isPastDeadline = (dueSinceAt: string, now: Date, policy: Pick<RetryPolicy, 'deadlineMs'>): boolean =>
  now.getTime() - new Date(dueSinceAt).getTime() > policy.deadlineMs;
