import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, type RateLimiter } from '../../functions/adapters/headend/rate-limiter.ts';

type Trace = { starts: number[]; maxInFlight: number };

// Starts `count` calls at once, each lasting `durationMs` of fake time, and records when each one started.
function launch(limiter: RateLimiter, count: number, durationMs: number): { trace: Trace; results: Promise<number[]> } {
  const trace: Trace = { starts: [], maxInFlight: 0 };
  let inFlight = 0;
  const results = Promise.all(
    Array.from({ length: count }, (_, index) =>
      limiter.run(async () => {
        trace.starts.push(Date.now());
        inFlight += 1;
        trace.maxInFlight = Math.max(trace.maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, durationMs));
        inFlight -= 1;
        return index;
      }),
    ),
  );
  return { trace, results };
}

function maxStartsInAnySecond(starts: number[]): number {
  return Math.max(0, ...starts.map((from) => starts.filter((at) => at >= from && at < from + 1000).length));
}

describe('createRateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never runs more calls at once than the concurrency cap, and runs every call', async () => {
    const { trace, results } = launch(createRateLimiter({ maxConcurrency: 3 }), 20, 100);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await results).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect(trace.maxInFlight).toBe(3);
  });

  it('never starts more calls in any one second than the rate cap, and runs every call', async () => {
    const { trace, results } = launch(createRateLimiter({ maxPerSecond: 4 }), 13, 10);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await results).toHaveLength(13);
    expect(trace.starts).toHaveLength(13);
    expect(maxStartsInAnySecond(trace.starts)).toBe(4);
    // 13 calls at 4 a second need three full windows after the first.
    expect(Math.max(...trace.starts) - Math.min(...trace.starts)).toBe(3000);
  });

  it('holds both caps together', async () => {
    const { trace, results } = launch(createRateLimiter({ maxConcurrency: 2, maxPerSecond: 5 }), 17, 300);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await results).toHaveLength(17);
    expect(trace.maxInFlight).toBe(2);
    expect(maxStartsInAnySecond(trace.starts)).toBeLessThanOrEqual(5);
  });

  it('starts calls in the order they arrived', async () => {
    const order: number[] = [];
    const limiter = createRateLimiter({ maxConcurrency: 1 });
    const all = Promise.all(
      [0, 1, 2, 3].map((index) =>
        limiter.run(async () => {
          order.push(index);
        }),
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    await all;
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it.each([
    ['undefined', {}],
    ['zero', { maxConcurrency: 0, maxPerSecond: 0 }],
  ])('is unlimited when the caps are %s', async (_, options) => {
    const { trace, results } = launch(createRateLimiter(options), 50, 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await results).toHaveLength(50);
    expect(trace.maxInFlight).toBe(50);
    expect(new Set(trace.starts).size).toBe(1);
  });

  it('passes a failure through to its caller and frees the slot for the next call', async () => {
    const limiter = createRateLimiter({ maxConcurrency: 1 });
    // The expectations are attached before time moves so that no rejection is ever left unhandled.
    const failing = expect(
      limiter.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const throwing = expect(
      limiter.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    const next = expect(limiter.run(async () => 'ran')).resolves.toBe('ran');
    await vi.advanceTimersByTimeAsync(0);
    await Promise.all([failing, throwing, next]);
  });

  it('drops a waiting call whose signal aborts, without running it or holding up the others', async () => {
    const limiter = createRateLimiter({ maxConcurrency: 1 });
    const ran: string[] = [];
    const first = limiter.run(async () => {
      ran.push('first');
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const controller = new AbortController();
    const abandoned = limiter.run(async () => {
      ran.push('abandoned');
    }, controller.signal);
    const last = limiter.run(async () => {
      ran.push('last');
    });
    controller.abort(new Error('caller gave up'));
    await expect(abandoned).rejects.toThrow('caller gave up');
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, last]);
    expect(ran).toEqual(['first', 'last']);
  });

  it('refuses at once a call whose signal has already aborted', async () => {
    const limiter = createRateLimiter({ maxConcurrency: 1 });
    const fn = vi.fn(async () => 'never');
    await expect(limiter.run(fn, AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
    expect(fn).not.toHaveBeenCalled();
  });
});
