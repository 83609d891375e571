import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  CARDS,
  type CrmRequest,
  createClearPin,
  mapLimit,
  scheduledDateAt,
  showRequest,
  waitForState,
  waitUntil,
} from '../helpers/pipeline.ts';

/**
 * SPEC §3 paths through the whole local stack: API over HTTP → DynamoDB → SQS poller → worker → simulator, and
 * the processing run on a timer. The grace period of process-immediately requests is long (30 s), so a request
 * that completes within a few seconds went through the queue, not through the processing run's safety net.
 */
let stack: LocalStack;

const CRM_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const HEX_ID = /^[0-9A-F]{32}$/;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    processing: true,
    processingIntervalMs: 300,
    env: {
      IMMEDIATE_GRACE_SECONDS: '30',
      LEASE_SECONDS: '3',
      RETRY_BASE_SECONDS: '0.2',
      RETRY_CAP_SECONDS: '1',
      HEADEND_TIMEOUT_MS: '1000',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  stack.headend.setFaults({});
});

/** What the simulator answers for a transaction now; a repeat is idempotent and executes nothing. */
const headendResultOf = async (transactionId: string, card: { caId: string }) => {
  const reply = await fetch(`${stack.headend.url}/commands`, {
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
  const counts = requests.map((r) => stack.headend.executions(r.id));
  expect(counts, 'headend executions per request').toEqual(requests.map(() => 1));
};

describe('a process-immediately request', () => {
  it('is COMPLETED through the work queue with every field of a sent request', async () => {
    const created = await createClearPin(stack.apiUrl, { processImmediately: true });
    expect(created.life_cycle_state).toBe('PENDING');
    expect(created.process_immediately).toBe(1);

    const done = await waitForState(stack.apiUrl, created.id, 'COMPLETED', 8_000);

    expect(done.executed_date).toMatch(CRM_DATE);
    expect(done.sequence_number).toMatch(/^[1-9]\d*$/);
    expect(done.process_id).toMatch(HEX_ID);
    expect(done.error_code).toBeNull();
    expect(JSON.parse(done.request ?? 'null')).toEqual({
      command: 'CLEAR_PIN',
      transaction_id: created.id,
      smartcard_ca_id: CARDS.known.caId,
      priority: 'REGULAR',
    });
    const response = JSON.parse(done.response ?? 'null');
    expect(response).toMatchObject({ result: 'ACCEPTED', reference_number: done.reference_number });
    // The headend's own record of the transaction carries the same reference.
    const headend = await headendResultOf(created.id, CARDS.known);
    expect(headend.reference_number).toBe(done.reference_number);
    expectExecutedOnce([created]);
  });

  it('of an unknown smartcard ends REJECTED with the headend error, without a reference', async () => {
    const created = await createClearPin(stack.apiUrl, { card: CARDS.unknown, processImmediately: true });

    const done = await waitForState(stack.apiUrl, created.id, 'REJECTED', 8_000);

    expect(done.error_code).toBe('UNKNOWN_SMARTCARD');
    expect(done.error_description).toContain(CARDS.unknown.caId);
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
    const created = await createClearPin(stack.apiUrl, { scheduledDate: scheduled, priority: 'EXPRESS' });
    expect(created.life_cycle_state).toBe('PENDING');
    expect(created.process_immediately).toBe(0);
    expect(created.scheduled_date).toBe(scheduled.slice(0, 19));

    // Several processing runs fire before the date; none hands it on.
    await waitUntil(
      async () => ({ request: await showRequest(stack.apiUrl, created.id), now: Date.now() }),
      ({ now }) => now >= Date.parse(scheduled) - 1_500,
      { timeoutMs: 6_000, describe: () => 'the clock did not reach the scheduled date' },
    );
    const before = await showRequest(stack.apiUrl, created.id);
    const stillEarly = Date.now() < Date.parse(scheduled);
    if (stillEarly) {
      expect(before.life_cycle_state).toBe('PENDING');
      expect(before.executed_date).toBeNull();
    }

    const done = await waitForState(stack.apiUrl, created.id, 'COMPLETED', 10_000);
    // CRM dates in UTC sort as text; the request was not sent before its date.
    expect(done.executed_date && done.executed_date >= done.scheduled_date).toBe(true);
    expect(done.priority).toBe('EXPRESS');
    expect(JSON.parse(done.request ?? 'null')).toMatchObject({ priority: 'EXPRESS' });
    expectExecutedOnce([created]);
  });
});

describe('headend faults', () => {
  it('a headend that is down and then back: every request completes after recovery, executed once', async () => {
    stack.headend.setFaults({ down: true });
    const callsBefore = stack.headend.callsReceived();
    const executionsBefore = stack.headend.totalExecutions();
    const created = await mapLimit(Array.from({ length: 6 }), 6, () =>
      createClearPin(stack.apiUrl, { processImmediately: true }),
    );

    // The worker really tried (and failed) while the headend was down; clients still see PENDING.
    await waitUntil(
      async () => stack.headend.callsReceived() - callsBefore,
      (calls) => calls >= created.length,
      { timeoutMs: 8_000, describe: (calls) => `only ${calls} calls reached the headend while it was down` },
    );
    for (const request of created) {
      expect((await showRequest(stack.apiUrl, request.id)).life_cycle_state).toBe('PENDING');
    }
    expect(stack.headend.totalExecutions()).toBe(executionsBefore);

    stack.headend.setFaults({});
    const done = await Promise.all(created.map((r) => waitForState(stack.apiUrl, r.id, 'COMPLETED', 20_000)));

    expect(done.every((r) => r.reference_number !== null)).toBe(true);
    expectExecutedOnce(created);
  });

  it('a storm of 429s: every request completes eventually, none executed twice', async () => {
    stack.headend.setFaults({ rateLimitPerSecond: 4 });
    const callsBefore = stack.headend.callsReceived();
    const created = await mapLimit(Array.from({ length: 16 }), 8, () =>
      createClearPin(stack.apiUrl, { processImmediately: true, card: CARDS.otherKnown }),
    );

    const done = await Promise.all(created.map((r) => waitForState(stack.apiUrl, r.id, 'COMPLETED', 40_000)));

    // The storm was real: more calls than requests reached the headend (the extra ones were refused 429).
    expect(stack.headend.callsReceived() - callsBefore).toBeGreaterThan(created.length);
    expect(new Set(done.map((r) => r.reference_number)).size).toBe(created.length);
    expectExecutedOnce(created);
    expect(stack.headend.maxExecutionsPerTransaction()).toBe(1);
  });
});
