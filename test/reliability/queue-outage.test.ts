import { describe, expect, it, vi } from 'vitest';
import { show } from '../helpers/http.ts';
import { queueCounts } from '../helpers/queue.ts';
import { type Created, createMany, settledProblems, storedRequests, waitUntilFinal } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * SQS unreachable when requests are created (SPEC §1: "SQS is a fast path, never the only copy"). The API and the
 * processing run reach SQS through a TCP proxy the test cuts; the local SQS poller (Lambda's event source) reads
 * the queue directly. Creates still answer 200, the requests stay visibly PENDING while SQS is away, and once it is
 * back the processing run hands them on and they complete, each executed once.
 */
const stack = useLocalStack({ faultProxies: true, processingIntervalMs: 500 });
const proxy = () => stack().sqsProxy;

const queuedMessages = async () => {
  const { visible, inFlight } = await queueCounts(stack().sqs, stack().queueUrl);
  return visible + inFlight;
};

describe('SQS is unreachable when requests are created', () => {
  it('answers 200, keeps the requests PENDING, and completes them through the processing run once SQS is back', async () => {
    proxy().cut();
    // Process-immediately ones (whose own send fails) and scheduled-now ones (the processing run's job anyway).
    const created = await createMany(stack(), 12, {
      extra: (i) => ({ process_immediately: i % 3 !== 0, priority: i % 2 === 0 ? 'EXPRESS' : 'REGULAR' }),
    });
    const ids = created.map((c) => c.id);
    const executionsBefore = stack().headend.totalExecutions();

    // Until a processing run has tried to hand each one on (its next look moved): nothing reached the queue or
    // the headend meanwhile.
    const calls = stack().headend.callsReceived();
    const firstLook = new Map([...(await storedRequests(stack()))].map(([id, item]) => [id, item.dueAt]));
    await vi.waitFor(
      async () => {
        const items = await storedRequests(stack());
        const unlooked = ids.filter((id) => items.get(id)?.dueAt === firstLook.get(id));
        expect(unlooked, 'requests no processing run has tried to hand on').toEqual([]);
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(stack().headend.callsReceived()).toBe(calls);
    expect(await queuedMessages()).toBe(0);
    const items = await storedRequests(stack());
    expect(ids.filter((id) => items.get(id)?.lifeCycleState === 'PENDING')).toEqual(ids);
    expect((await show(stack(), `id=${ids[1]}`)).body?.data?.life_cycle_state).toBe('PENDING');
    expect(stack().headend.totalExecutions()).toBe(executionsBefore);

    proxy().restore();
    await waitUntilFinal(stack(), ids, 30_000);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });

  it('keeps working through repeated short SQS outages', async () => {
    const created: Created[] = [];
    for (let round = 0; round < 3; round++) {
      proxy().cut();
      created.push(...(await createMany(stack(), 4)));
      proxy().restore();
      created.push(...(await createMany(stack(), 4)));
    }
    await waitUntilFinal(
      stack(),
      created.map((c) => c.id),
      30_000,
    );
    expect(await settledProblems(stack(), created)).toEqual([]);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
  });
});
