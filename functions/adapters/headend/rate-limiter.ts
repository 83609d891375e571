export type RateLimiterOptions = {
  /** Most calls running at once; 0 or undefined means unlimited. */
  maxConcurrency?: number;
  /** Most calls started in any sliding window of one second; 0 or undefined means unlimited. */
  maxPerSecond?: number;
};

export interface RateLimiter {
  /**
   * Runs `fn` once both caps allow it, in arrival order. If `signal` aborts while the call is still
   * waiting, the returned promise rejects with the signal's reason and `fn` never runs.
   */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

const WINDOW_MS = 1000;

type Waiter = { start: () => void; cancelled: boolean };

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const maxConcurrency = positiveOrInfinity(options.maxConcurrency);
  const maxPerSecond = positiveOrInfinity(options.maxPerSecond);
  const queue: Waiter[] = [];
  // Start times of the calls inside the current window; a sliding window (not a bucket refill) so that
  // no one-second span, wherever it falls, ever holds more than maxPerSecond starts.
  const starts: number[] = [];
  let inFlight = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function pump(): void {
    while (queue.length > 0) {
      const head = queue[0] as Waiter;
      if (head.cancelled) {
        queue.shift();
        continue;
      }
      if (inFlight >= maxConcurrency) return;
      const now = Date.now();
      while (starts.length > 0 && (starts[0] as number) <= now - WINDOW_MS) starts.shift();
      if (starts.length >= maxPerSecond) {
        scheduleAt((starts[0] as number) + WINDOW_MS - now);
        return;
      }
      queue.shift();
      inFlight += 1;
      if (maxPerSecond !== Number.POSITIVE_INFINITY) starts.push(now);
      head.start();
    }
  }

  function scheduleAt(delayMs: number): void {
    if (timer !== undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        pump();
      },
      Math.max(0, delayMs),
    );
  }

  return {
    run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = (): void => {
          waiter.cancelled = true;
          reject(signal?.reason);
          pump();
        };
        const waiter: Waiter = {
          cancelled: false,
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            let result: Promise<T>;
            try {
              result = fn();
            } catch (error) {
              result = Promise.reject(error);
            }
            result.then(resolve, reject).finally(() => {
              inFlight -= 1;
              pump();
            });
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        pump();
      });
    },
  };
}

function positiveOrInfinity(value: number | undefined): number {
  return value !== undefined && value > 0 ? value : Number.POSITIVE_INFINITY;
}
