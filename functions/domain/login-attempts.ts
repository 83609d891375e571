/** Lock-out rule of SPEC §2.1: 5 failures within 15 minutes lock the username for 15 minutes. */
export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_MS = 15 * 60 * 1000;

export type LoginFailures = { count: number; windowStart: Date; lockedUntil?: Date };

export const isLockedOut = (failures: LoginFailures | undefined, now: Date): boolean =>
  failures?.lockedUntil !== undefined && failures.lockedUntil > now;

/** A counter whose window has passed starts again from zero. */
export const isWindowOver = (failures: LoginFailures, now: Date): boolean =>
  now.getTime() - failures.windowStart.getTime() > FAILURE_WINDOW_MS;

/** The lock to set after a failure, if this failure is the one that crosses the limit. */
export const lockAfter = (failures: LoginFailures, now: Date): Date | undefined =>
  failures.count >= MAX_FAILURES ? new Date(now.getTime() + LOCKOUT_MS) : undefined;
