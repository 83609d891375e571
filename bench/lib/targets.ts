/** The performance targets (README: Performance), read by bench/run.ts's table and by the charts' budget marks. */
export const TARGETS = {
  /** Create throughput at c=32, as a share of baseline (a)'s in the same round. */
  throughputShare: 0.85,
  /** Create p99 at c=32, as a multiple of baseline (a)'s p99 in the same round. */
  p99ToBaseline: 1.3,
  /** DynamoDB round trips per create, plain and with an Idempotency-Key. */
  roundTrips: 3,
  keyedRoundTrips: 3,
  /** Bundle sizes in KB of 1,000 bytes. */
  bundleKb: { api: 400, worker: 350, processing_run: 320 },
  /** Each bundle's import time, as a multiple of the floor's in the same run. */
  importToFloor: 1.5,
  /**
   * A list page's p50 as a multiple of its one-Query baseline's, over the largest table, against the same over the
   * smallest (each offset): the page's cost must not grow with the table.
   */
  listFlat: 1.25,
  /** The drain of the due requests, as a multiple of the ideal N / R. */
  drainToIdeal: 1.05,
} as const;
