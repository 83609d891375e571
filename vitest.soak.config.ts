import { defineConfig } from 'vitest/config';

/**
 * `npm run test:soak`: the long reliability runs (fuzzing ×10, 2,000-request load, fault storm, idempotent
 * retries through an outage). One file at a time, so each has the machine to itself; generous timeouts.
 */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
