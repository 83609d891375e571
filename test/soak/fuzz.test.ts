import { defineFuzzSuite } from '../helpers/fuzz/runner.ts';

/** The fuzz suite of test/fuzz with ten times the inputs and its own seed (FUZZ_RUNS, FUZZ_SEED override). */
defineFuzzSuite({ runs: Number(process.env.FUZZ_RUNS ?? 10_000), seed: Number(process.env.FUZZ_SEED ?? 20_260_602) });
