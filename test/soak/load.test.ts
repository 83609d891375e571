import { defineLoadSuite } from '../helpers/load.ts';

/** The load suite at soak size: 2,000 creates at concurrency 64 (LOAD_TOTAL, LOAD_CONCURRENCY override). */
defineLoadSuite({
  total: Number(process.env.LOAD_TOTAL ?? 2_000),
  concurrency: Number(process.env.LOAD_CONCURRENCY ?? 64),
  settleMs: 600_000,
});
