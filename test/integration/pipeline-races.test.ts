import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageCommand, PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequestClaims } from '../../functions/adapters/dynamo/request-claims.ts';
import { fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { createGenericHeadendClient } from '../../functions/adapters/headend/generic.ts';
import { newId } from '../../functions/domain/identifiers.ts';
import { type ProcessDueDependencies, processDue } from '../../functions/use-cases/process-due.ts';
import { type SendToHeadendDependencies, sendToHeadend } from '../../functions/use-cases/send-to-headend.ts';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';
import { type DemoCard, KNOWN_CARD, OTHER_KNOWN_CARD } from '../helpers/demo.ts';
import { type CrmRequest, createRequest, showRequest } from '../helpers/http.ts';
import { runPool } from '../helpers/pool.ts';
import { queueCounts } from '../helpers/queue.ts';
import { readItem, scheduledDateAt } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';
import { processingDependencies, workerDependencies } from '../helpers/worker.ts';

// The use cases are imported before the stack configures Powertools: keep their logs and metrics quiet.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
});

/**
 * The processing path built from its real parts (dynalite, fauxqs, the simulator over HTTP, the DynamoDB / SQS /
 * HTTP adapters) with the use cases called by the test, so the test decides when a processing run fires, when a
 * worker takes a message and when a worker "dies". The API (over HTTP) creates the requests.
 */
let store: ReturnType<typeof createRequestClaims>;
let send: SendToHeadendDependencies;
let run: ProcessDueDependencies;
/** Ids the processing runs handed to the queue, in order. */
let dispatched: string[];

const LEASE_MS = 1_000;

/** A first delivery of the request's queue message, by a fresh worker invocation. */
const job = (requestId: string) => ({ requestId, processId: newId(), receiveCount: 1 });
const GRACE_SECONDS = 1;

const stack = useLocalStack({ processing: false, env: { IMMEDIATE_GRACE_SECONDS: String(GRACE_SECONDS) } });

beforeAll(() => {
  store = createRequestClaims(stack().document, stack().tableName);
  send = workerDependencies(stack(), stack().headend.url, { claims: store, leaseMs: LEASE_MS });
  run = processingDependencies(stack(), (ids) => dispatched.push(...ids), { dispatchWindowMs: LEASE_MS, pageSize: 2 });
});

beforeEach(() => {
  dispatched = [];
  stack().headend.setFaults({});
});

/**
 * One worker pass: takes what is on the queue, one message at a time in the order received, sends each request
 * to the headend and deletes the message once done (as the SQS event source would). Answers the ids it handled.
 */
const workQueueOnce = async (deps: SendToHeadendDependencies = send): Promise<string[]> => {
  const handled: string[] = [];
  for (;;) {
    const { Messages = [] } = await stack().sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack().queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return handled;
    for (const message of Messages) {
      const { requestId } = JSON.parse(message.Body ?? '{}') as { requestId: string };
      const result = await sendToHeadend(deps, job(requestId));
      handled.push(requestId);
      if (result.kind === 'done') {
        await stack().sqs.send(
          new DeleteMessageCommand({ QueueUrl: stack().queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }
};

/**
 * Processing runs and worker passes, as EventBridge and the queue would drive them, until every request has
 * left PENDING; answers the requests as show gives them.
 */
const runUntilSettled = (ids: string[], label: string, timeout = 8_000) =>
  vi.waitFor(
    async () => {
      await processDue(run, { budgetMs: 10_000 });
      await workQueueOnce();
      const requests = await Promise.all(ids.map((id) => showRequest(stack(), id)));
      const pending = requests.filter((r) => r.life_cycle_state === 'PENDING');
      if (pending.length > 0) throw new Error(`${label}: ${pending.length} of ${ids.length} still PENDING`);
      return requests;
    },
    { timeout, interval: 200 },
  );

/** Like runUntilSettled for one request, which must end COMPLETED. */
const runUntilCompleted = async (id: string, label: string) => {
  const [done] = await runUntilSettled([id], label);
  expect(done?.life_cycle_state, `${label} (error ${done?.error_code})`).toBe('COMPLETED');
  return done as CrmRequest;
};

const createDueNow = (count: number, card?: DemoCard, extra?: Record<string, unknown>) =>
  runPool(Array.from({ length: count }), 5, () => createRequest(stack(), card, extra));

const sequenceOf = async (id: string) => Number((await showRequest(stack(), id)).sequence_number);

describe('the processing run', () => {
  it('hands EXPRESS requests on before REGULAR ones that are due, so the headend gets them first', async () => {
    // A backlog built while nothing processes: REGULAR requests first (older), then EXPRESS ones.
    const regular = await createDueNow(6, KNOWN_CARD, { priority: 'REGULAR' });
    const express = await createDueNow(6, OTHER_KNOWN_CARD, { priority: 'EXPRESS' });
    await workQueueOnce(); // nothing is on the queue: scheduled requests wait for the run

    const result = await processDue(run, { budgetMs: 10_000 });
    expect(result.dispatched).toBeGreaterThanOrEqual(12);
    const ours = new Set([...regular, ...express].map((r) => r.id));
    const order = dispatched.filter((id) => ours.has(id));
    const expressIds = new Set(express.map((r) => r.id));
    expect(
      order.slice(0, 6).every((id) => expressIds.has(id)),
      `dispatch order ${order.join(',')}`,
    ).toBe(true);
    expect(order).toHaveLength(12);

    await workQueueOnce();
    const expressSeq = await Promise.all(express.map((r) => sequenceOf(r.id)));
    const regularSeq = await Promise.all(regular.map((r) => sequenceOf(r.id)));
    expect(Math.max(...expressSeq)).toBeLessThan(Math.min(...regularSeq));
    for (const r of [...regular, ...express]) expect(stack().headend.executions(r.id)).toBe(1);
  });

  it('leaves a request alone until its scheduled date', async () => {
    const scheduled = scheduledDateAt(new Date(Date.now() + 2_500));
    const created = await createRequest(stack(), KNOWN_CARD, { scheduled_date: scheduled });

    await processDue(run, { budgetMs: 10_000 });
    const early = Date.now() < Date.parse(scheduled);
    await workQueueOnce();
    if (early) {
      expect(dispatched).not.toContain(created.id);
      expect((await showRequest(stack(), created.id)).life_cycle_state).toBe('PENDING');
    }

    await runUntilCompleted(created.id, 'request');
    expect(stack().headend.executions(created.id)).toBe(1);
  });

  it('finds a process-immediately request whose queue message was lost, after the grace period', async () => {
    const created = await createRequest(stack(), KNOWN_CARD, { process_immediately: true });
    // The message is lost: received and deleted by nobody who processes it.
    const lost = await stack().sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack().queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const message = lost.Messages?.find((m) => m.Body?.includes(created.id));
    expect(message, 'the API put the request on the work queue').toBeDefined();
    await stack().sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack().queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );

    const done = await runUntilCompleted(created.id, 'lost request');
    expect(dispatched).toContain(created.id);
    expect(done.reference_number).not.toBeNull();
    expect(stack().headend.executions(created.id)).toBe(1);
  });
});

describe('a worker that dies', () => {
  it('before calling the headend: the run re-takes the request when the lease runs out; executed once', async () => {
    const [created] = await createDueNow(1);
    const id = (created as CrmRequest).id;
    // A lease with room to spare, so the checks below run while it surely holds.
    const claimed = await store.claim(id, newId(), new Date(), new Date(Date.now() + 2_500));
    expect(claimed?.id).toBe(id);
    // The worker is gone. While its lease holds, neither a run nor another worker takes the request.
    await processDue(run, { budgetMs: 10_000 });
    expect(dispatched).not.toContain(id);
    expect(await sendToHeadend(send, job(id))).toEqual({ kind: 'done', state: 'NOT_CLAIMED' });

    const done = await runUntilCompleted(id, 'abandoned request');
    expect(dispatched).toContain(id);
    expect(done.reference_number).not.toBeNull();
    expect(stack().headend.executions(id)).toBe(1);
  });

  it('after the headend executed the command: the retry completes it with the first reference, executed once', async () => {
    const [created] = await createDueNow(1, OTHER_KNOWN_CARD);
    const id = (created as CrmRequest).id;
    const claimed = await store.claim(id, newId(), new Date(), new Date(Date.now() + LEASE_MS));
    expect(claimed).toBeDefined();
    const first = await send.headend.send({
      transactionId: id,
      smartcardCaId: OTHER_KNOWN_CARD.caId,
      priority: 'REGULAR',
    });
    expect(first.kind).toBe('accepted');
    // ... and the worker dies before writing COMPLETED.
    expect((await showRequest(stack(), id)).life_cycle_state).toBe('PENDING');

    const done = await runUntilCompleted(id, 'request');
    expect(done.reference_number).toBe(first.kind === 'accepted' ? first.referenceNumber : 'none');
    expect(stack().headend.executions(id)).toBe(1);
  });

  it('stuck in a call longer than its lease: another worker completes it, the stuck one overwrites nothing', async () => {
    const [created] = await createDueNow(1);
    const id = (created as CrmRequest).id;
    stack().headend.setFaults({ timeout: true });
    const slow = {
      ...send,
      headend: createGenericHeadendClient({
        url: stack().headend.url,
        secret: fixedCredential(DEFAULT_HEADEND_SECRET),
        timeoutMs: 2_500,
      }),
      retry: { ...send.retry, inCall: { ...send.retry.inCall, retries: 0 } },
    };
    const callsBefore = stack().headend.callsReceived();
    const stuck = sendToHeadend(slow, job(id));
    await expect
      .poll(() => stack().headend.callsReceived(), {
        timeout: 3_000,
        interval: 100,
        message: 'the stuck worker reached the headend',
      })
      .toBeGreaterThan(callsBefore);
    stack().headend.setFaults({});

    const done = await runUntilCompleted(id, 'request');
    // The stuck call ends in a time-out; its release must not touch the completed request.
    expect(await stuck).toMatchObject({ kind: 'retry-later' });
    const after = await showRequest(stack(), id);
    expect(after).toEqual(done);
    const item = await readItem(stack(), id);
    expect(item?.dueAt, 'a final request leaves the due index').toBeUndefined();
    expect(stack().headend.executions(id)).toBe(1);
  });
});

describe('processing runs and workers racing for the same requests', () => {
  // Leases long enough that none runs out under a loaded machine: every overlap here is a real race.
  const racing = () => ({ send: { ...send, leaseMs: 15_000 }, run: { ...run, dispatchWindowMs: 15_000 } });

  it('many concurrent sends of one request: one headend call, COMPLETED once', async () => {
    const [created] = await createDueNow(1);
    const id = (created as CrmRequest).id;
    const callsBefore = stack().headend.callsReceived();

    const results = await Promise.all(Array.from({ length: 12 }, () => sendToHeadend(racing().send, job(id))));

    expect(results.filter((r) => r.kind === 'done' && r.state === 'COMPLETED')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'done' && r.state === 'NOT_CLAIMED')).toHaveLength(11);
    expect(stack().headend.callsReceived() - callsBefore).toBe(1);
    expect((await showRequest(stack(), id)).life_cycle_state).toBe('COMPLETED');
    expect(stack().headend.executions(id)).toBe(1);
  });

  it('overlapping runs, several workers and direct sends: each request sent once and COMPLETED', async () => {
    const created = await createDueNow(30);
    const ids = created.map((r) => r.id);
    const callsBefore = stack().headend.callsReceived();

    const { send: racingSend, run: racingRun } = racing();
    const sequences: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round += 1) {
      sequences.push(
        ...Array.from({ length: 3 }, () => processDue(racingRun, { budgetMs: 10_000 })),
        ...Array.from({ length: 3 }, () => workQueueOnce(racingSend)),
        ...ids.slice(round * 10, round * 10 + 10).map((id) => sendToHeadend(racingSend, job(id))),
      );
    }
    await Promise.all(sequences);
    const done = await runUntilSettled(ids, 'racing requests', 10_000);
    expect(done.filter((r) => r.life_cycle_state !== 'COMPLETED')).toEqual([]);

    // The claims alone keep it to one call per request (the simulator's idempotency is the second guard).
    expect(stack().headend.callsReceived() - callsBefore).toBe(ids.length);
    for (const id of ids) expect(stack().headend.executions(id)).toBe(1);
    expect(new Set(done.map((r) => r.sequence_number)).size).toBe(ids.length);
    await expect
      .poll(
        async () => {
          const { visible, inFlight } = await queueCounts(stack().sqs, stack().queueUrl);
          return { visible, inFlight };
        },
        { timeout: 3_000, interval: 100, message: 'the work queue drains' },
      )
      .toEqual({ visible: 0, inFlight: 0 });
  });

  it('a request that failed transiently is retried after its back-off and completes once', async () => {
    stack().headend.setFaults({ failRate: 1 });
    const [created] = await createDueNow(1);
    const id = (created as CrmRequest).id;

    const first = await sendToHeadend(send, job(id));
    expect(first).toMatchObject({ kind: 'retry-later' });
    expect((await showRequest(stack(), id)).life_cycle_state).toBe('PENDING');
    stack().headend.setFaults({});

    const done = await runUntilCompleted(id, 'request');
    expect(done.reference_number).not.toBeNull();
    expect(stack().headend.executions(id)).toBe(1);
  });
});

describe('the retry deadline runs from when a request became due', () => {
  it('a request scheduled in the past is retried after a transient failure, not given up at once', async () => {
    // Yesterday: due at once on creation, but not "a day overdue" for the headend retries.
    const yesterday = new Date(Date.now() - 2 * 24 * 3600_000).toISOString().slice(0, 10);
    const created = await createRequest(stack(), KNOWN_CARD, { scheduled_date: yesterday });
    stack().headend.setFaults({ failRate: 1 });

    const first = await sendToHeadend(send, job(created.id));

    expect(first).toMatchObject({ kind: 'retry-later' });
    expect((await showRequest(stack(), created.id)).life_cycle_state).toBe('PENDING');
    stack().headend.setFaults({});
    const [done] = await runUntilSettled([created.id], 'request');
    expect(done?.life_cycle_state).toBe('COMPLETED');
    expect(stack().headend.executions(created.id)).toBe(1);
  });

  it('a process-immediately request with a far scheduled_date is given up on after the deadline', async () => {
    const created = await createRequest(stack(), KNOWN_CARD, {
      process_immediately: true,
      scheduled_date: scheduledDateAt(new Date(Date.now() + 300 * 24 * 3600_000)),
    });
    const createdBy = Date.now();
    // The API already put it on the queue; this test plays the worker itself.
    await stack().sqs.send(new PurgeQueueCommand({ QueueUrl: stack().queueUrl }));
    const deadlineMs = 300;
    // Until the clock has passed the deadline.
    await sleep(Math.max(0, createdBy + deadlineMs + 1 - Date.now()));
    stack().headend.setFaults({ failRate: 1 });

    const result = await sendToHeadend({ ...send, retry: { ...send.retry, deadlineMs } }, job(created.id));

    expect(result).toEqual({ kind: 'done', state: 'REJECTED' });
    const done = await showRequest(stack(), created.id);
    expect(done.life_cycle_state).toBe('REJECTED');
    expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
    expect(stack().headend.executions(created.id)).toBe(0);
  });
});
