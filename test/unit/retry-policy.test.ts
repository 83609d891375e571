import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  decideRetry,
  dueSince,
  isPastDeadline,
  type RetryPolicy,
  retryDelayMs,
} from '../../functions/domain/retry-policy.ts';

const policy: RetryPolicy = {
  inCall: { retries: 1, baseMs: 100, capMs: 2_000 },
  baseMs: 5_000,
  capMs: 60_000,
  minMs: 1_000,
  deadlineMs: 3_600_000,
  maxReceiveCount: 5,
};
const almostOne = () => 0.999_999;
const HOUR = 3_600_000;

describe('retryDelayMs', () => {
  it('grows exponentially with the attempts made, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempts) => retryDelayMs(attempts, policy, almostOne))).toEqual([
      4_999, 9_999, 19_999, 39_999, 59_999, 59_999,
    ]);
  });

  it('spreads retries with full jitter between the floor and the ceiling', () => {
    expect(retryDelayMs(3, policy, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(3, policy, () => 0.25)).toBe(5_000);
  });

  it('never retries at once: an unlucky draw still waits the minimum', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(1_000);
    expect(retryDelayMs(1, { ...policy, baseMs: 10 }, almostOne)).toBe(1_000);
  });

  it('stays within [minimum, max(minimum, cap)] for any attempt count and draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, draw) => {
          const delay = retryDelayMs(attempts, policy, () => draw);
          return Number.isInteger(delay) && delay >= policy.minMs && delay < policy.capMs;
        },
      ),
    );
  });

  it('uses the SPEC defaults: give up after 24 hours, back off at most 15 minutes', () => {
    expect(DEFAULT_RETRY_POLICY.deadlineMs).toBe(24 * HOUR);
    expect(retryDelayMs(50, DEFAULT_RETRY_POLICY, almostOne)).toBeLessThanOrEqual(15 * 60_000);
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 0)).toBeGreaterThan(0);
  });
});

describe('isPastDeadline', () => {
  const since = '2026-03-01T10:00:00.000Z';

  it('keeps retrying up to the deadline itself and gives up just after it', () => {
    expect(isPastDeadline(since, new Date('2026-03-01T10:30:00.000Z'), policy)).toBe(false);
    expect(isPastDeadline(since, new Date('2026-03-01T11:00:00.000Z'), policy)).toBe(false);
    expect(isPastDeadline(since, new Date('2026-03-01T11:00:00.001Z'), policy)).toBe(true);
  });

  it('is never past for a request that only becomes due later', () => {
    expect(isPastDeadline('2026-03-02T10:00:00.000Z', new Date(since), policy)).toBe(false);
  });
});

describe('dueSince: where the retry deadline starts', () => {
  const createdAt = '2026-03-01T10:00:00.000Z';

  it('a scheduled request is due at its scheduled date', () => {
    const scheduledAt = '2026-03-05T08:00:00.000Z';
    expect(dueSince({ processImmediately: false, scheduledAt, createdAt })).toBe(scheduledAt);
  });

  it('a request scheduled in the past is due at its creation, so a late first failure is still retried', () => {
    const request = { processImmediately: false, scheduledAt: '2026-02-27T00:00:00.000Z', createdAt };
    expect(dueSince(request)).toBe(createdAt);
    // One transient failure a minute after creation: a day after the scheduled date, yet well within the deadline.
    const firstFailure = new Date(Date.parse(createdAt) + 60_000);
    expect(isPastDeadline(dueSince(request), firstFailure, DEFAULT_RETRY_POLICY)).toBe(false);
  });

  it('a process-immediately request is due at its creation, even with a scheduled date far ahead', () => {
    const request = { processImmediately: true, scheduledAt: '2026-12-01T00:00:00.000Z', createdAt };
    expect(dueSince(request)).toBe(createdAt);
    const twoDaysLater = new Date(Date.parse(createdAt) + 48 * HOUR);
    expect(isPastDeadline(dueSince(request), twoDaysLater, DEFAULT_RETRY_POLICY)).toBe(true);
  });
});

describe('decideRetry: the table of SPEC §3 for a transient failure', () => {
  const dueAt = '2026-03-01T10:00:00.000Z';
  const soon = new Date('2026-03-01T10:05:00.000Z');
  const history = { callAttempts: 1, claims: 1, dueSince: dueAt, receiveCount: 1 };
  const half = () => 0.5;

  it.each(['SERVER_ERROR', 'RATE_LIMITED', 'TIMEOUT', 'CONNECTION_ERROR', 'INVALID_RESPONSE'])(
    'a first %s is called again at once, after a short jittered pause',
    (reason) => {
      expect(decideRetry(reason, history, soon, policy, half)).toEqual({ kind: 'retry-now', delayMs: 50 });
    },
  );

  it('after its in-call retries, the request goes back to the queue with the claim back-off', () => {
    expect(decideRetry('SERVER_ERROR', { ...history, callAttempts: 2, claims: 3 }, soon, policy, half)).toEqual({
      kind: 'retry-later',
      delayMs: 10_000,
    });
  });

  it.each(['UNAUTHORIZED', 'ABORTED'])('%s is never called again in the same invocation', (reason) => {
    expect(decideRetry(reason, history, soon, policy, half)).toMatchObject({ kind: 'retry-later' });
  });

  it('hands the request back to the processing run when one more receive would dead-letter the message', () => {
    const nearDlq = { ...history, callAttempts: 2, receiveCount: policy.maxReceiveCount - 1 };
    expect(decideRetry('SERVER_ERROR', nearDlq, soon, policy, half)).toMatchObject({ kind: 'hand-back' });
    expect(decideRetry('SERVER_ERROR', { ...nearDlq, receiveCount: 3 }, soon, policy, half)).toMatchObject({
      kind: 'retry-later',
    });
  });

  it('rejects once the deadline from the due time has passed, and not before', () => {
    const late = { ...history, callAttempts: 2 };
    expect(decideRetry('TIMEOUT', late, new Date('2026-03-01T11:00:00.000Z'), policy)).not.toEqual({ kind: 'reject' });
    expect(decideRetry('TIMEOUT', late, new Date('2026-03-01T11:00:00.001Z'), policy)).toEqual({ kind: 'reject' });
  });

  it('a blip just past the deadline still gets its in-call retry before the request is given up', () => {
    expect(decideRetry('SERVER_ERROR', history, new Date('2026-03-01T12:00:00.000Z'), policy, half)).toEqual({
      kind: 'retry-now',
      delayMs: 50,
    });
  });
});
