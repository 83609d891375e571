import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  type Created,
  createMany,
  FAST_PROCESSING_ENV,
  requestItems,
  settledProblems,
  show,
  waitFor,
  waitUntilFinal,
} from '../helpers/reliability.ts';

/**
 * SPEC §3 under a failing CA headend, over the real simulator: down, slower than the client's timeout, never
 * answering, 503 half the time, 429 above a rate. Whatever the fault, no request is lost (each ends COMPLETED, or
 * REJECTED for the card the headend does not know) and none is executed twice.
 */
let stack: LocalStack;
const everything: Created[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, processingIntervalMs: 500, env: { ...FAST_PROCESSING_ENV } });
});

afterAll(async () => {
  await stack?.stop();
});

const SETTLE_MS = 30_000;

const pendingCount = async (ids: string[]) => {
  const items = await requestItems(stack);
  return ids.filter((id) => items.get(id)?.lifeCycleState === 'PENDING').length;
};

describe('the CA headend fails', () => {
  it('is down: requests wait PENDING, then all complete once it is back', async () => {
    stack.headend.setFaults({ down: true });
    const callsBefore = stack.headend.callsReceived();
    const created = await createMany(stack.apiUrl, 9);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    // Every request reached the headend and was refused (about once each); none is final, and clients see PENDING.
    await waitFor(
      async () =>
        ids.every((id) => stack.headend.executions(id) === 0) &&
        stack.headend.callsReceived() - callsBefore >= ids.length
          ? true
          : undefined,
      { timeoutMs: SETTLE_MS },
    );
    expect(await pendingCount(ids)).toBe(ids.length);
    expect((await show(stack.apiUrl, `id=${ids[0]}`)).body?.data?.life_cycle_state).toBe('PENDING');

    stack.headend.setFaults({});
    await waitUntilFinal(stack, ids, SETTLE_MS);
    expect(await settledProblems(stack, created)).toEqual([]);
  });

  it('answers slower than the client waits: executed once while the client gave up, recorded once on retry', async () => {
    stack.headend.setFaults({ latencyMs: 1_000 });
    const created = await createMany(stack.apiUrl, 9);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    // The headend executes each command after its delay, but the worker has timed out by then: the dangerous
    // state, executed at the headend and still PENDING here.
    await waitFor(async () => (ids.every((id) => stack.headend.executions(id) === 1) ? true : undefined), {
      timeoutMs: SETTLE_MS,
    });
    expect(await pendingCount(ids)).toBe(ids.length);

    stack.headend.setFaults({});
    await waitUntilFinal(stack, ids, SETTLE_MS);
    expect(await settledProblems(stack, created)).toEqual([]);
  });

  it('never answers: calls time out, nothing executes, all complete once it answers again', async () => {
    stack.headend.setFaults({ timeout: true });
    const callsBefore = stack.headend.callsReceived();
    const created = await createMany(stack.apiUrl, 6);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    await waitFor(async () => (stack.headend.callsReceived() - callsBefore >= ids.length ? true : undefined), {
      timeoutMs: SETTLE_MS,
    });
    expect(await pendingCount(ids)).toBe(ids.length);

    stack.headend.setFaults({});
    await waitUntilFinal(stack, ids, SETTLE_MS);
    expect(await settledProblems(stack, created)).toEqual([]);
  });

  it('answers 503 half the time: every request still completes, with the fault left on', async () => {
    stack.headend.setFaults({ failRate: 0.5 });
    const callsBefore = stack.headend.callsReceived();
    const executionsBefore = stack.headend.totalExecutions();
    const created = await createMany(stack.apiUrl, 18);
    everything.push(...created);
    await waitUntilFinal(
      stack,
      created.map((c) => c.id),
      SETTLE_MS,
    );
    // Some calls were refused with 503 (calls beyond one per execution), and were retried to completion.
    expect(stack.headend.callsReceived() - callsBefore).toBeGreaterThan(
      stack.headend.totalExecutions() - executionsBefore,
    );
    expect(await settledProblems(stack, created)).toEqual([]);
    stack.headend.setFaults({});
  });

  it('floods 429 above 4 calls a second: every request still completes, with the limit left on', async () => {
    stack.headend.setFaults({ rateLimitPerSecond: 4 });
    const callsBefore = stack.headend.callsReceived();
    const executionsBefore = stack.headend.totalExecutions();
    const created = await createMany(stack.apiUrl, 12, { concurrency: 12 });
    everything.push(...created);
    await waitUntilFinal(
      stack,
      created.map((c) => c.id),
      SETTLE_MS,
    );
    expect(stack.headend.callsReceived() - callsBefore).toBeGreaterThan(
      stack.headend.totalExecutions() - executionsBefore,
    );
    expect(await settledProblems(stack, created)).toEqual([]);
    stack.headend.setFaults({});
  });

  it('lost nothing and executed nothing twice over all the faults', async () => {
    expect(everything.length).toBe(54);
    expect(new Set(everything.map((c) => c.number)).size).toBe(everything.length);
    expect(await settledProblems(stack, everything)).toEqual([]);
    expect(stack.headend.maxExecutionsPerTransaction()).toBe(1);
    expect(stack.headend.totalExecutions()).toBe(everything.length);
  });
});
