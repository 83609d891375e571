/**
 * The lock-out rule of SPEC §2.1: at most 5 wrong passwords per username (of one organisation) are judged in
 * 15 minutes, however many arrive at once, and the fifth locks the username for 15 minutes.
 *
 * It holds under concurrency because an attempt takes one of the 5 *slots* of the window before its password is
 * checked, in one conditional write (adapters/dynamo/login-attempts.ts); a wrong password keeps its slot. The
 * attempt that takes the fifth slot also sets the lock, so every later attempt is refused at once, the right
 * password included. A right password clears the slots — unless a lock that another attempt set holds.
 */
export const MAX_ATTEMPTS = 5;
export const ATTEMPT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_MS = 15 * 60 * 1000;

/** What taking an attempt slot came to. */
export type AttemptSlot =
  /** Judge the password. `lockedUntil`: this attempt took the last slot and set the lock. */
  | { taken: true; lockedUntil?: Date }
  /** Refuse without judging: the username is locked until then. */
  | { taken: false; lockedUntil: Date };

/** The stored record of a username's attempts in its current window. */
export type LoginAttempts = { slots: number; windowStart: Date; lockedUntil?: Date };

export const isLocked = (attempts: LoginAttempts | undefined, now: Date): boolean =>
  attempts?.lockedUntil !== undefined && attempts.lockedUntil > now;

/** A window that started more than 15 minutes ago is over: the next attempt starts a new one. */
export const isWindowOver = (attempts: LoginAttempts, now: Date): boolean =>
  now.getTime() - attempts.windowStart.getTime() > ATTEMPT_WINDOW_MS;

/** The lock the attempt taking the last slot sets. */
export const lockFrom = (now: Date): Date => new Date(now.getTime() + LOCKOUT_MS);

/** Retry-After of a refusal: whole seconds until the lock ends, at least 1. */
export const secondsUntil = (until: Date, now: Date): number =>
  Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
