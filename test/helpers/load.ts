import { describe, expect, it } from 'vitest';
import { CARDS, type DemoCard } from './demo.ts';
import { type Api, createClearPin } from './http.ts';
import { runPool } from './pool.ts';
import { type Created, settledProblems, waitUntilFinal } from './requests.ts';
import { useLocalStack } from './stack.ts';

/**
 * `total` creates at `concurrency` over the demo cards, half of them process-immediately, a quarter EXPRESS.
 * Answers the created requests and every failure (a non-200 or a broken connection), never throwing.
 */
const loadCreates = async (api: Api, total: number, concurrency: number) => {
  const errors: string[] = [];
  const results = await runPool(
    Array.from({ length: total }, (_, i) => i),
    concurrency,
    async (i): Promise<Created | undefined> => {
      const card = CARDS[i % CARDS.length] as DemoCard;
      try {
        const reply = await createClearPin(api, card, {
          process_immediately: i % 2 === 0,
          priority: i % 4 === 1 ? 'EXPRESS' : 'REGULAR',
        });
        if (reply.status !== 200) {
          errors.push(`HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
          return undefined;
        }
        return { id: reply.body?.data.id, number: reply.body?.data.number, card };
      } catch (error) {
        errors.push(String((error as Error).cause ?? error));
        return undefined;
      }
    },
  );
  return { created: results.filter((r): r is Created => r !== undefined), errors };
};

/**
 * The load suite: `total` creates at `concurrency` through the local HTTP front while the processing run (every
 * second) and the SQS worker keep sending to the headend. No error, distinct ids and numbers, every request
 * COMPLETED except those of the card the headend does not know (REJECTED UNKNOWN_SMARTCARD), none executed twice.
 * The npm-test run (test/reliability) and the soak run (test/soak) differ only in size.
 */
export const defineLoadSuite = ({
  total,
  concurrency,
  settleMs,
}: {
  total: number;
  concurrency: number;
  /** How long the requests may take to become final once all are created. */
  settleMs: number;
}) => {
  const stack = useLocalStack({ processingIntervalMs: 1_000, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });

  describe(`${total} creates at concurrency ${concurrency}`, () => {
    it('answers every create 200 with a distinct number, and every request completes, executed once', async () => {
      const started = Date.now();
      const { created, errors } = await loadCreates(stack(), total, concurrency);
      const createdAfterMs = Date.now() - started;
      expect(errors).toEqual([]);
      expect(created).toHaveLength(total);
      expect(new Set(created.map((c) => c.number)).size).toBe(total);
      expect(new Set(created.map((c) => c.id)).size).toBe(total);

      await waitUntilFinal(
        stack(),
        created.map((c) => c.id),
        settleMs,
      );
      const settledAfterMs = Date.now() - started;
      expect(await settledProblems(stack(), created)).toEqual([]);
      expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
      expect(stack().headend.totalExecutions()).toBe(total);
      const rejected = created.filter((c) => !c.card.headendKnows).length;
      console.info(
        `load: ${total} creates at concurrency ${concurrency}, 0 errors, ${total} distinct numbers; ` +
          `${total - rejected} COMPLETED, ${rejected} REJECTED UNKNOWN_SMARTCARD; max executions per request ` +
          `${stack().headend.maxExecutionsPerTransaction()}; all created after ${createdAfterMs} ms, all final after ` +
          `${settledAfterMs} ms (informational)`,
      );
    });
  });
};
