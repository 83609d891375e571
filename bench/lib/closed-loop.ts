import { distribution, percentile, round } from './stats.ts';

export type LoadResult = {
  concurrency: number;
  requests: number;
  errors: number;
  duration_s: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** The whole distribution, for bench/charts/api-latency.svg (bench/lib/stats.ts DISTRIBUTION_POINTS). */
  latency_percentiles_ms: Record<string, number>;
};

/** A load result with what the process under test spent on it (see bench/scenarios/api.ts). */
export type Measure = LoadResult & {
  /** Operations the measure ran (creates: the sequence's advance, so requests cut off at the end count too). */
  operations: number;
  /** DynamoDB requests sent. */
  round_trips: number;
  round_trips_per_op: number;
  /** Of them, the ones on the latency path (bench/lib/dynamo-counter.ts, `waves`): meaningful at concurrency 1. */
  sequential_round_trips: number;
  cpu_ms_per_op: number;
  by_operation: Record<string, number>;
};

/**
 * The baseline's load generator: `concurrency` workers, each calling `operation` back to back until the time
 * is up (a closed loop, like autocannon's connections), timing every call.
 */
export const closedLoop = async (
  operation: () => Promise<unknown>,
  options: { concurrency: number; durationMs: number },
): Promise<LoadResult> => {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await operation();
        latencies.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return summarize(options.concurrency, latencies, errors, elapsed);
};

export const summarize = (
  concurrency: number,
  latencies: readonly number[],
  errors: number,
  elapsedSeconds: number,
): LoadResult => ({
  concurrency,
  requests: latencies.length,
  errors,
  duration_s: round(elapsedSeconds),
  rps: round(latencies.length / elapsedSeconds, 1),
  p50_ms: round(percentile(latencies, 50)),
  p99_ms: round(percentile(latencies, 99)),
  latency_percentiles_ms: distribution(latencies),
});
