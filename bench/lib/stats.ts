import { cpus } from 'node:os';

/** Linear-interpolated percentile (p in 0..100) of samples sorted ascending; 0 for no samples. */
const percentileOfSorted = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (rank - low);
};

const ascending = (samples: readonly number[]) => [...samples].sort((a, b) => a - b);

/** Linear-interpolated percentile (p in 0..100) of unsorted samples; 0 for no samples. */
export const percentile = (samples: readonly number[], p: number): number => percentileOfSorted(ascending(samples), p);

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** The points of a latency distribution that results.json keeps (0 is the fastest, 100 the slowest). */
export const DISTRIBUTION_POINTS = [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100] as const;

/** `{ p0: …, p1: …, …, p100: … }` of unsorted samples, each rounded to `digits` (sorted once, not per point). */
export const distribution = (samples: readonly number[], digits = 3): Record<string, number> => {
  const sorted = ascending(samples);
  return Object.fromEntries(DISTRIBUTION_POINTS.map((p) => [`p${p}`, round(percentileOfSorted(sorted, p), digits)]));
};

/** Rounds to `digits` decimals, so results.json stays readable. */
export const round = (value: number, digits = 2): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export const machineInfo = () => ({
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  date: new Date().toISOString(),
});
