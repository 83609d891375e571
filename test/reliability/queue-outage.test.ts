import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/local-stack.ts';
import {
  createMany,
  type FaultProxy,
  requestItems,
  settledProblems,
  show,
  startStackBehindProxies,
  waitFor,
  waitUntilFinal,
} from '../helpers/reliability.ts';

/**
 * SQS unreachable when requests are created (SPEC §1: "SQS is a fast path, never the only copy"). The API and the
 * processing run reach SQS through a TCP proxy the test cuts; the local SQS poller (Lambda's event source) reads
 * the queue directly. Creates still answer 200, the requests stay visibly PENDING while SQS is away, and once it is
 * back the processing run hands them on and they complete, each executed once.
 */
let stack: LocalStack;
let stop: () => Promise<void>;
let proxy: FaultProxy;

beforeAll(async () => {
  ({ stack, sqs: proxy, stop } = await startStackBehindProxies({ processingIntervalMs: 500 }));
});

afterAll(async () => {
  await stop?.();
});

const queuedMessages = async () => {
  const { Attributes } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
};

describe('SQS is unreachable when requests are created', () => {
  it('answers 200, keeps the requests PENDING, and completes them through the processing run once SQS is back', async () => {
    proxy.cut();
    // Process-immediately ones (whose own send fails) and scheduled-now ones (the processing run's job anyway).
    const created = await createMany(stack.apiUrl, 12, {
      extra: (i) => ({ process_immediately: i % 3 !== 0, priority: i % 2 === 0 ? 'EXPRESS' : 'REGULAR' }),
    });
    const ids = created.map((c) => c.id);
    const executionsBefore = stack.headend.totalExecutions();

    // Until a processing run has tried to hand each one on (its next look moved): nothing reached the queue or
    // the headend meanwhile.
    const calls = stack.headend.callsReceived();
    const firstLook = new Map([...(await requestItems(stack))].map(([id, item]) => [id, item.dueAt]));
    await waitFor(
      async () => {
        const items = await requestItems(stack);
        return ids.every((id) => items.get(id)?.dueAt !== firstLook.get(id)) ? true : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(stack.headend.callsReceived()).toBe(calls);
    expect(await queuedMessages()).toBe(0);
    const items = await requestItems(stack);
    expect(ids.filter((id) => items.get(id)?.lifeCycleState === 'PENDING')).toEqual(ids);
    expect((await show(stack.apiUrl, `id=${ids[1]}`)).body?.data?.life_cycle_state).toBe('PENDING');
    expect(stack.headend.totalExecutions()).toBe(executionsBefore);

    proxy.restore();
    await waitUntilFinal(stack, ids, 30_000);
    expect(await settledProblems(stack, created)).toEqual([]);
  });

  it('keeps working through repeated short SQS outages', async () => {
    const created = [];
    for (let round = 0; round < 3; round++) {
      proxy.cut();
      created.push(...(await createMany(stack.apiUrl, 4)));
      proxy.restore();
      created.push(...(await createMany(stack.apiUrl, 4)));
    }
    await waitUntilFinal(
      stack,
      created.map((c) => c.id),
      30_000,
    );
    expect(await settledProblems(stack, created)).toEqual([]);
    expect(stack.headend.maxExecutionsPerTransaction()).toBe(1);
  });
});
