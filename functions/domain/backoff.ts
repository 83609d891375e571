export type BackoffOptions = { baseMs: number; capMs: number };

/**
 * Exponential backoff with full jitter: a uniformly random delay in [0, min(cap, base * 2^(attempt - 1))).
 * Full jitter spreads retries of many callers that failed together, so they do not hit the headend in waves.
 * `attempt` 1 is the first retry; anything lower is treated as 1.
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // Math.min before multiplying keeps huge attempts from overflowing to Infinity.
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(exponent, 52));
  if (!(ceiling > 0)) return 0;
  return Math.floor(random() * ceiling);
}
