import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import { loadCreates, settledProblems, waitUntilFinal } from '../helpers/reliability.ts';

/**
 * 2,000 creates at concurrency 64 through the local HTTP front while the processing run (every second) and the
 * SQS worker keep sending to the headend: no error, 2,000 distinct numbers, every request COMPLETED except those
 * of the card the headend does not know (REJECTED UNKNOWN_SMARTCARD), no headend execution duplicated.
 */
const TOTAL = Number(process.env.LOAD_TOTAL ?? 2_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 64);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, processingIntervalMs: 1_000, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });
});

afterAll(async () => {
  await stack?.stop();
});

describe(`${TOTAL} creates at concurrency ${CONCURRENCY}`, () => {
  it('answers every create 200 with a distinct number, and every request completes, executed once', async () => {
    const started = Date.now();
    const { created, errors } = await loadCreates(stack.apiUrl, TOTAL, CONCURRENCY);
    const createdAfterMs = Date.now() - started;
    expect(errors).toEqual([]);
    expect(created).toHaveLength(TOTAL);
    expect(new Set(created.map((c) => c.number)).size).toBe(TOTAL);

    await waitUntilFinal(
      stack,
      created.map((c) => c.id),
      600_000,
    );
    const settledAfterMs = Date.now() - started;
    expect(await settledProblems(stack, created)).toEqual([]);
    expect(stack.headend.maxExecutionsPerTransaction()).toBe(1);
    expect(stack.headend.totalExecutions()).toBe(TOTAL);
    const rejected = created.filter((c) => !c.card.headendKnows).length;
    console.info(
      `load: ${TOTAL} creates at concurrency ${CONCURRENCY}, 0 errors, ${TOTAL} distinct numbers; ` +
        `${TOTAL - rejected} COMPLETED, ${rejected} REJECTED UNKNOWN_SMARTCARD; max executions per request ` +
        `${stack.headend.maxExecutionsPerTransaction()}; all created after ${createdAfterMs} ms, all final after ` +
        `${settledAfterMs} ms (informational)`,
    );
  });
});
