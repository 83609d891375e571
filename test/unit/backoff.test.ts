import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../functions/domain/backoff.ts';

const opts = { baseMs: 100, capMs: 5000 };
const almostOne = () => 0.999_999;

describe('backoffDelayMs', () => {
  it('lets the first retry wait up to the base delay', () => {
    expect(backoffDelayMs(1, opts, () => 0)).toBe(0);
    expect(backoffDelayMs(1, opts, () => 0.5)).toBe(50);
    expect(backoffDelayMs(1, opts, almostOne)).toBe(99);
  });

  it('doubles the ceiling with every further attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, opts, almostOne))).toEqual([
      99, 199, 399, 799, 1599,
    ]);
  });

  it('never waits longer than the cap, however many attempts', () => {
    expect(backoffDelayMs(7, opts, almostOne)).toBe(4999);
    expect(backoffDelayMs(10_000, opts, almostOne)).toBe(4999);
  });

  it('treats an attempt below 1 as the first retry', () => {
    expect(backoffDelayMs(0, opts, almostOne)).toBe(99);
    expect(backoffDelayMs(-3, opts, almostOne)).toBe(99);
  });

  it('waits nothing when base or cap is zero', () => {
    expect(backoffDelayMs(3, { baseMs: 0, capMs: 1000 }, almostOne)).toBe(0);
    expect(backoffDelayMs(3, { baseMs: 100, capMs: 0 }, almostOne)).toBe(0);
  });

  it('is full jitter: any whole delay from 0 up to the ceiling, for any random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, capMs, draw) => {
          const delay = backoffDelayMs(attempt, { baseMs, capMs }, () => draw);
          const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
        },
      ),
    );
  });

  it('uses Math.random by default, so repeated calls spread out', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(10, opts)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) expect(delay).toBeLessThan(opts.capMs);
  });
});
