import { describe, expect, it } from 'vitest';
import type { HeadendFaults } from '../../infra/local/headend-simulator.ts';
import { show } from '../helpers/http.ts';
import { type Created, createMany, settledProblems, storedRequests, waitUntilFinal } from '../helpers/requests.ts';
import { FAST_PROCESSING_ENV, useLocalStack } from '../helpers/stack.ts';

/**
 * SPEC §3 under a failing CA headend, over the real simulator: down, slower than the client's timeout, never
 * answering, 503 half the time, 429 above a rate. Whatever the fault, no request is lost (each ends COMPLETED, or
 * REJECTED for the card the headend does not know) and none is executed twice.
 */
const stack = useLocalStack({ processingIntervalMs: 500, env: FAST_PROCESSING_ENV });
const everything: Created[] = [];

const SETTLE_MS = 30_000;

const pendingCount = async (ids: string[]) => {
  const items = await storedRequests(stack());
  return ids.filter((id) => items.get(id)?.lifeCycleState === 'PENDING').length;
};

describe('the CA headend fails', () => {
  it('is down: requests wait PENDING, then all complete once it is back', async () => {
    stack().headend.setFaults({ down: true });
    const callsBefore = stack().headend.callsReceived();
    const created = await createMany(stack(), 9);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    // Every request reached the headend and was refused (about once each); none is final, and clients see PENDING.
    await expect
      .poll(
        () => ({
          executed: ids.filter((id) => stack().headend.executions(id) !== 0),
          callsEnough: stack().headend.callsReceived() - callsBefore >= ids.length,
        }),
        { timeout: SETTLE_MS, interval: 250 },
      )
      .toEqual({ executed: [], callsEnough: true });
    expect(await pendingCount(ids)).toBe(ids.length);
    expect((await show(stack(), `id=${ids[0]}`)).body?.data?.life_cycle_state).toBe('PENDING');

    stack().headend.setFaults({});
    await waitUntilFinal(stack(), ids, SETTLE_MS);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });

  it('answers slower than the client waits: executed once while the client gave up, recorded once on retry', async () => {
    stack().headend.setFaults({ latencyMs: 1_000 });
    const created = await createMany(stack(), 9);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    // The headend executes each command after its delay, but the worker has timed out by then: the dangerous
    // state, executed at the headend and still PENDING here.
    await expect
      .poll(() => ids.map((id) => stack().headend.executions(id)), { timeout: SETTLE_MS, interval: 250 })
      .toEqual(ids.map(() => 1));
    expect(await pendingCount(ids)).toBe(ids.length);

    stack().headend.setFaults({});
    await waitUntilFinal(stack(), ids, SETTLE_MS);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });

  it('never answers: calls time out, nothing executes, all complete once it answers again', async () => {
    stack().headend.setFaults({ timeout: true });
    const callsBefore = stack().headend.callsReceived();
    const created = await createMany(stack(), 6);
    everything.push(...created);
    const ids = created.map((c) => c.id);
    await expect
      .poll(() => stack().headend.callsReceived() - callsBefore, { timeout: SETTLE_MS, interval: 250 })
      .toBeGreaterThanOrEqual(ids.length);
    expect(await pendingCount(ids)).toBe(ids.length);

    stack().headend.setFaults({});
    await waitUntilFinal(stack(), ids, SETTLE_MS);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });

  it.each<[string, HeadendFaults, number, number]>([
    ['answers 503 half the time: every request still completes, with the fault left on', { failRate: 0.5 }, 18, 8],
    [
      'floods 429 above 4 calls a second: every request still completes, with the limit left on',
      { rateLimitPerSecond: 4 },
      12,
      12,
    ],
  ])('%s', async (_, faults, count, concurrency) => {
    stack().headend.setFaults(faults);
    const callsBefore = stack().headend.callsReceived();
    const executionsBefore = stack().headend.totalExecutions();
    const created = await createMany(stack(), count, { concurrency });
    everything.push(...created);
    await waitUntilFinal(
      stack(),
      created.map((c) => c.id),
      SETTLE_MS,
    );
    // Some calls were refused (calls beyond one per execution), and were retried to completion.
    expect(stack().headend.callsReceived() - callsBefore).toBeGreaterThan(
      stack().headend.totalExecutions() - executionsBefore,
    );
    expect(await settledProblems(stack(), created)).toEqual([]);
    stack().headend.setFaults({});
  });

  it('lost nothing and executed nothing twice over all the faults', async () => {
    expect(everything.length).toBe(54);
    expect(new Set(everything.map((c) => c.number)).size).toBe(everything.length);
    expect(await settledProblems(stack(), everything)).toEqual([]);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
    expect(stack().headend.totalExecutions()).toBe(everything.length);
  });
});
