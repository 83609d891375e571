import { defineLoadSuite } from '../helpers/load.ts';

/** A smaller run of the soak load test (test/soak/load.test.ts runs 2,000 at concurrency 64). */
defineLoadSuite({
  total: Number(process.env.LOAD_TOTAL ?? 200),
  concurrency: Number(process.env.LOAD_CONCURRENCY ?? 32),
  settleMs: 120_000,
});
