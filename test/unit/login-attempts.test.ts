import { describe, expect, it } from 'vitest';
import {
  FAILURE_WINDOW_MS,
  isLockedOut,
  isWindowOver,
  LOCKOUT_MS,
  lockAfter,
  MAX_FAILURES,
} from '../../functions/domain/login-attempts.ts';

const MINUTE = 60_000;
const now = new Date('2026-03-10T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('the lock-out rule (5 failures within 15 minutes lock for 15 minutes)', () => {
  it('has the numbers of the SPEC', () => {
    expect(MAX_FAILURES).toBe(5);
    expect(FAILURE_WINDOW_MS).toBe(15 * MINUTE);
    expect(LOCKOUT_MS).toBe(15 * MINUTE);
  });

  it('does not lock after four failures', () => {
    for (let count = 1; count <= 4; count++) expect(lockAfter({ count, windowStart: now }, now)).toBeUndefined();
  });

  it('locks at the fifth failure, for 15 minutes from it', () => {
    expect(lockAfter({ count: 5, windowStart: at(-10 * MINUTE) }, now)).toEqual(at(15 * MINUTE));
  });

  it('keeps locking on later failures (concurrent attempts past the fifth)', () => {
    expect(lockAfter({ count: 9, windowStart: now }, now)).toEqual(at(15 * MINUTE));
  });

  it('refuses logins while locked and lets them through once the lock has run out', () => {
    const failures = { count: 5, windowStart: now, lockedUntil: at(15 * MINUTE) };
    expect(isLockedOut(failures, now)).toBe(true);
    expect(isLockedOut(failures, at(15 * MINUTE - 1))).toBe(true);
    expect(isLockedOut(failures, at(15 * MINUTE))).toBe(false);
  });

  it('does not lock a username without failures or without a lock', () => {
    expect(isLockedOut(undefined, now)).toBe(false);
    expect(isLockedOut({ count: 4, windowStart: now }, now)).toBe(false);
  });

  it('counts failures within 15 minutes together and starts again after', () => {
    const failures = { count: 4, windowStart: now };
    expect(isWindowOver(failures, at(15 * MINUTE))).toBe(false);
    expect(isWindowOver(failures, at(15 * MINUTE + 1))).toBe(true);
  });
});
