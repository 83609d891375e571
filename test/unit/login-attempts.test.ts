import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_WINDOW_MS,
  isLocked,
  isWindowOver,
  LOCKOUT_MS,
  lockFrom,
  MAX_ATTEMPTS,
  secondsUntil,
} from '../../functions/domain/login-attempts.ts';

const MINUTE = 60_000;
const now = new Date('2026-03-10T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('the lock-out rule (5 attempts judged within 15 minutes, then 15 minutes locked)', () => {
  it('has the numbers of the SPEC', () => {
    expect(MAX_ATTEMPTS).toBe(5);
    expect(ATTEMPT_WINDOW_MS).toBe(15 * MINUTE);
    expect(LOCKOUT_MS).toBe(15 * MINUTE);
  });

  it('locks for 15 minutes from the attempt that takes the last slot', () => {
    expect(lockFrom(now)).toEqual(at(15 * MINUTE));
  });

  it('holds a lock until its end, and not a moment after', () => {
    const attempts = { slots: 5, windowStart: at(-10 * MINUTE), lockedUntil: at(5 * MINUTE) };
    expect(isLocked(attempts, now)).toBe(true);
    expect(isLocked(attempts, at(5 * MINUTE - 1))).toBe(true);
    expect(isLocked(attempts, at(5 * MINUTE))).toBe(false);
    expect(isLocked({ slots: 3, windowStart: now }, now)).toBe(false);
    expect(isLocked(undefined, now)).toBe(false);
  });

  it('starts a new window once the old one is more than 15 minutes old', () => {
    expect(isWindowOver({ slots: 4, windowStart: at(-15 * MINUTE) }, now)).toBe(false);
    expect(isWindowOver({ slots: 4, windowStart: at(-15 * MINUTE - 1) }, now)).toBe(true);
  });

  it('tells the client the whole seconds left, never 0', () => {
    expect(secondsUntil(at(15 * MINUTE), now)).toBe(900);
    expect(secondsUntil(at(1_500), now)).toBe(2);
    expect(secondsUntil(at(10), now)).toBe(1);
    expect(secondsUntil(at(-5_000), now)).toBe(1);
  });
});
