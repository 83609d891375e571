import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';
import { KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD } from '../helpers/demo.ts';
import { type CrmRequest, createRequest, showRequest } from '../helpers/http.ts';
import { CRM_DATE, CRM_ID } from '../helpers/oracle.ts';
import { runPool } from '../helpers/pool.ts';
import { scheduledDateAt, waitForState } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * SPEC §3 paths through the whole local stack: API over HTTP → DynamoDB → SQS poller → worker → simulator, and
 * the processing run on a timer. The grace period of process-immediately requests is long (30 s), so a request
 * that completes within a few seconds went through the queue, not through the processing run's safety net.
 */
const stack = useLocalStack({
  processingIntervalMs: 300,
  env: {
    IMMEDIATE_GRACE_SECONDS: '30',
    LEASE_SECONDS: '3',
    RETRY_BASE_SECONDS: '0.2',
    RETRY_CAP_SECONDS: '1',
    HEADEND_TIMEOUT_MS: '1000',
  },
});

beforeEach(() => {
  stack().headend.setFaults({});
});

/** What the simulator answers for a transaction now; a repeat is idempotent and executes nothing. */
const headendResultOf = async (transactionId: string, card: { caId: string }) => {
  const reply = await fetch(`${stack().headend.url}/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_HEADEND_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      command: 'CLEAR_PIN',
      transaction_id: transactionId,
      smartcard_ca_id: card.caId,
      priority: 'REGULAR',
    }),
  });
  return (await reply.json()) as Record<string, string>;
};

const expectExecutedOnce = (requests: CrmRequest[]) => {
  const counts = requests.map((r) => stack().headend.executions(r.id));
  expect(counts, 'headend executions per request').toEqual(requests.map(() => 1));
};

describe('a process-immediately request', () => {
  it('is COMPLETED through the work queue with every field of a sent request', async () => {
    const created = await createRequest(stack(), KNOWN_CARD, { process_immediately: true });
    expect(created.life_cycle_state).toBe('PENDING');
    expect(created.process_immediately).toBe(1);

    const done = await waitForState(stack(), created.id, 'COMPLETED', 8_000);

    expect(done.executed_date).toMatch(CRM_DATE);
    expect(done.sequence_number).toMatch(/^[1-9]\d*$/);
    expect(done.process_id).toMatch(CRM_ID);
    expect(done.error_code).toBeNull();
    expect(JSON.parse(done.request ?? 'null')).toEqual({
      command: 'CLEAR_PIN',
      transaction_id: created.id,
      smartcard_ca_id: KNOWN_CARD.caId,
      priority: 'REGULAR',
    });
    const response = JSON.parse(done.response ?? 'null');
    expect(response).toMatchObject({ result: 'ACCEPTED', reference_number: done.reference_number });
    // The headend's own record of the transaction carries the same reference.
    const headend = await headendResultOf(created.id, KNOWN_CARD);
    expect(headend.reference_number).toBe(done.reference_number);
    expectExecutedOnce([created]);
  });

  it('of an unknown smartcard ends REJECTED with the headend error, without a reference', async () => {
    const created = await createRequest(stack(), UNKNOWN_CARD, { process_immediately: true });

    const done = await waitForState(stack(), created.id, 'REJECTED', 8_000);

    expect(done.error_code).toBe('UNKNOWN_SMARTCARD');
    expect(done.error_description).toContain(UNKNOWN_CARD.caId);
    expect(done.executed_date).toMatch(CRM_DATE);
    expect(done.reference_number).toBeNull();
    expect(done.sequence_number).toBeNull();
    expect(JSON.parse(done.response ?? 'null')).toMatchObject({ result: 'REJECTED', error_code: 'UNKNOWN_SMARTCARD' });
    expectExecutedOnce([created]);
  });
});

describe('a scheduled request', () => {
  it('stays PENDING until its scheduled date, then the processing run completes it', async () => {
    const scheduled = scheduledDateAt(new Date(Date.now() + 4_000));
    const created = await createRequest(stack(), KNOWN_CARD, { scheduled_date: scheduled, priority: 'EXPRESS' });
    expect(created.life_cycle_state).toBe('PENDING');
    expect(created.process_immediately).toBe(0);
    expect(created.scheduled_date).toBe(scheduled.slice(0, 19));

    // Several processing runs fire before the date; none hands it on.
    await sleep(Math.max(0, Date.parse(scheduled) - 1_500 - Date.now()));
    const before = await showRequest(stack(), created.id);
    const stillEarly = Date.now() < Date.parse(scheduled);
    if (stillEarly) {
      expect(before.life_cycle_state).toBe('PENDING');
      expect(before.executed_date).toBeNull();
    }

    const done = await waitForState(stack(), created.id, 'COMPLETED', 10_000);
    // CRM dates in UTC sort as text; the request was not sent before its date.
    expect(done.executed_date && done.executed_date >= done.scheduled_date).toBe(true);
    expect(done.priority).toBe('EXPRESS');
    expect(JSON.parse(done.request ?? 'null')).toMatchObject({ priority: 'EXPRESS' });
    expectExecutedOnce([created]);
  });
});

describe('headend faults', () => {
  it('a headend that is down and then back: every request completes after recovery, executed once', async () => {
    stack().headend.setFaults({ down: true });
    const callsBefore = stack().headend.callsReceived();
    const executionsBefore = stack().headend.totalExecutions();
    const created = await runPool(Array.from({ length: 6 }), 6, () =>
      createRequest(stack(), KNOWN_CARD, { process_immediately: true }),
    );

    // The worker really tried (and failed) while the headend was down; clients still see PENDING.
    await expect
      .poll(() => stack().headend.callsReceived() - callsBefore, {
        timeout: 8_000,
        interval: 100,
        message: 'calls that reached the headend while it was down',
      })
      .toBeGreaterThanOrEqual(created.length);
    for (const request of created) {
      expect((await showRequest(stack(), request.id)).life_cycle_state).toBe('PENDING');
    }
    expect(stack().headend.totalExecutions()).toBe(executionsBefore);

    stack().headend.setFaults({});
    const done = await Promise.all(created.map((r) => waitForState(stack(), r.id, 'COMPLETED', 20_000)));

    expect(done.every((r) => r.reference_number !== null)).toBe(true);
    expectExecutedOnce(created);
  });

  it('a storm of 429s: every request completes eventually, none executed twice', async () => {
    stack().headend.setFaults({ rateLimitPerSecond: 4 });
    const callsBefore = stack().headend.callsReceived();
    const created = await runPool(Array.from({ length: 16 }), 8, () =>
      createRequest(stack(), OTHER_KNOWN_CARD, { process_immediately: true }),
    );

    const done = await Promise.all(created.map((r) => waitForState(stack(), r.id, 'COMPLETED', 40_000)));

    // The storm was real: more calls than requests reached the headend (the extra ones were refused 429).
    expect(stack().headend.callsReceived() - callsBefore).toBeGreaterThan(created.length);
    expect(new Set(done.map((r) => r.reference_number)).size).toBe(created.length);
    expectExecutedOnce(created);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
  });
});
