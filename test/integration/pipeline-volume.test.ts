import { describe, expect, it, vi } from 'vitest';
import { type DemoCard, KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD } from '../helpers/demo.ts';
import { createRequest } from '../helpers/http.ts';
import { runPool } from '../helpers/pool.ts';
import { queueCounts } from '../helpers/queue.ts';
import { scheduledDateAt, storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * 500 requests through the whole local stack: mixed process-immediately and scheduled (a few seconds ahead),
 * REGULAR and EXPRESS, a tenth of them for the smartcard the headend does not know. Judged by the simulator's
 * counts (nothing lost, nothing executed twice) and by the table (every request final, in the expected state).
 * The short grace period means the processing run steps in for process-immediately requests the worker has not
 * reached yet, so the queue path and the run race for the same requests throughout.
 */
const TOTAL = 500;

const stack = useLocalStack({
  processingIntervalMs: 300,
  env: {
    IMMEDIATE_GRACE_SECONDS: '2',
    LEASE_SECONDS: '3',
    RETRY_BASE_SECONDS: '0.2',
    RETRY_CAP_SECONDS: '1',
    HEADEND_TIMEOUT_MS: '2000',
    HEADEND_MAX_CONCURRENCY: '20',
    HEADEND_MAX_PER_SECOND: '1000',
    DUE_PAGE_SIZE: '25',
  },
});

describe(`${TOTAL} requests`, () => {
  it('none lost, none executed twice, each COMPLETED or REJECTED as its smartcard dictates', async () => {
    const started = Date.now();
    const plans: { card: DemoCard; priority: string; processImmediately: boolean }[] = Array.from(
      { length: TOTAL },
      (_, i) => ({
        card: i % 10 === 9 ? UNKNOWN_CARD : i % 2 === 0 ? KNOWN_CARD : OTHER_KNOWN_CARD,
        priority: i % 3 === 0 ? 'EXPRESS' : 'REGULAR',
        processImmediately: i % 5 < 3,
      }),
    );

    // Scheduled ones are due a few seconds after their own creation.
    const created = await runPool(plans, 12, ({ card, priority, processImmediately }) =>
      createRequest(stack(), card, {
        priority,
        process_immediately: processImmediately,
        ...(processImmediately ? {} : { scheduled_date: scheduledDateAt(new Date(Date.now() + 3_000)) }),
      }),
    );
    const createdMs = Date.now() - started;
    const expected = new Map(
      created.map((r, i) => [r.id, plans[i]?.card === UNKNOWN_CARD ? 'REJECTED' : 'COMPLETED'] as const),
    );
    expect(expected.size).toBe(TOTAL);

    const items = await vi.waitFor(
      async () => {
        const all = [...(await storedRequests(stack())).values()];
        const pending = all.filter((item) => item.lifeCycleState === 'PENDING').length;
        if (all.length !== TOTAL || pending > 0) throw new Error(`${pending} of ${all.length} requests still PENDING`);
        return all;
      },
      { timeout: 60_000, interval: 500 },
    );
    const drainedMs = Date.now() - started;

    // The table: exactly the created requests, each in its expected final state with its fields.
    const byId = new Map(items.map((item) => [item.id as string, item]));
    expect([...byId.keys()].sort()).toEqual([...expected.keys()].sort());
    const wrong = [...expected].filter(([id, state]) => byId.get(id)?.lifeCycleState !== state);
    expect(wrong, 'requests not in their expected state').toEqual([]);
    for (const item of items) {
      if (item.lifeCycleState === 'COMPLETED') {
        expect(item.referenceNumber, `reference of ${item.id}`).toEqual(expect.any(String));
      } else {
        expect(item.errorCode, `error of ${item.id}`).toBe('UNKNOWN_SMARTCARD');
      }
      expect(item.dueAt, `${item.id} left the due index`).toBeUndefined();
    }
    const completed = items.filter((item) => item.lifeCycleState === 'COMPLETED');
    expect(new Set(completed.map((item) => item.sequenceNumber)).size).toBe(completed.length);

    // The headend: every request was executed exactly once.
    const knownCards = [...expected.values()].filter((state) => state === 'COMPLETED').length;
    expect(stack().headend.totalExecutions()).toBe(TOTAL);
    expect(completed).toHaveLength(knownCards);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
    for (const id of expected.keys()) expect(stack().headend.executions(id), `executions of ${id}`).toBe(1);

    // Nothing is left behind on the work queue or dead-lettered.
    await expect
      .poll(() => queueCounts(stack().sqs, stack().queueUrl), { timeout: 10_000, interval: 100 })
      .toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect((await queueCounts(stack().sqs, stack().deadLetterQueueUrl)).visible).toBe(0);

    console.info(
      `pipeline-volume: ${TOTAL} requests created in ${createdMs} ms, all final after ${drainedMs} ms ` +
        `(scheduled ones due 3 s after their creation); headend calls ${stack().headend.callsReceived()}, ` +
        `max in flight ${stack().headend.maxInFlight()}`,
    );
  }, 120_000);
});
