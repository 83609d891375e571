import { backoffDelayMs } from './backoff.ts';

/** Error code written when the headend stayed unreachable until the deadline (SPEC §3). */
export const HEADEND_UNAVAILABLE = 'HEADEND_UNAVAILABLE';

export type RetryPolicy = { baseMs: number; capMs: number; minMs: number; deadlineMs: number };

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 5_000,
  capMs: 15 * 60_000,
  minMs: 1_000,
  deadlineMs: 24 * 60 * 60_000,
};

/** Delay before the next try after `attempts` tries: exponential with full jitter, never quite zero. */
export const retryDelayMs = (attempts: number, policy: RetryPolicy, random: () => number = Math.random): number =>
  Math.max(policy.minMs, backoffDelayMs(attempts, policy, random));

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
export const isPastDeadline = (dueSinceAt: string, now: Date, policy: RetryPolicy): boolean =>
  now.getTime() - new Date(dueSinceAt).getTime() > policy.deadlineMs;
