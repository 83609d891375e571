import { defineFuzzSuite } from '../helpers/fuzz/runner.ts';

/**
 * Property-based fuzzing of the three public routes over the real HTTP front (SPEC §2.5): whatever a client
 * sends, the answer is CRM.COM's envelope with the catalogue status, never a 5xx, never a stack trace, and
 * nothing is written that was not validly created. A fixed seed makes every run the same; FUZZ_RUNS and
 * FUZZ_SEED override the defaults (the soak run, test/soak/fuzz.test.ts, tries ten times as many).
 */
defineFuzzSuite({ runs: Number(process.env.FUZZ_RUNS ?? 1000), seed: Number(process.env.FUZZ_SEED ?? 20_260_601) });
