import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import { loadCreates, settledProblems, waitUntilFinal } from '../helpers/reliability.ts';

/**
 * A smaller run of the soak load test (test/soak/load.test.ts runs 2,000 at concurrency 64): creates through the
 * HTTP front at concurrency while the processing run and the worker keep sending to the headend.
 */
const TOTAL = Number(process.env.LOAD_TOTAL ?? 200);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 32);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, processingIntervalMs: 1_000, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });
});

afterAll(async () => {
  await stack?.stop();
});

describe(`${TOTAL} creates at concurrency ${CONCURRENCY}`, () => {
  it('answers every create 200 with a distinct number, and every request completes, executed once', async () => {
    const { created, errors } = await loadCreates(stack.apiUrl, TOTAL, CONCURRENCY);
    expect(errors).toEqual([]);
    expect(created).toHaveLength(TOTAL);
    expect(new Set(created.map((c) => c.number)).size).toBe(TOTAL);
    expect(new Set(created.map((c) => c.id)).size).toBe(TOTAL);

    await waitUntilFinal(
      stack,
      created.map((c) => c.id),
      120_000,
    );
    expect(await settledProblems(stack, created)).toEqual([]);
    expect(stack.headend.maxExecutionsPerTransaction()).toBe(1);
    expect(stack.headend.totalExecutions()).toBe(TOTAL);
  });
});
