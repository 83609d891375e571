import { SendMessageBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../functions/domain/identifiers.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  CARDS,
  createClearPin,
  DEMO_TOKEN,
  peekMessages,
  queueCounts,
  readItem,
  scheduledDateAt,
  showRequest,
  waitForState,
  waitUntil,
} from '../helpers/pipeline.ts';

/**
 * Failures through the whole local stack (API, poller + worker, processing-run timer, simulator): a headend that
 * stays unreachable past the deadline, a lost queue send and poison messages. The deadline is tiny (1.8 s) so a
 * request that keeps failing is given up on within the test.
 */
let stack: LocalStack;

const DEADLINE_HOURS = 0.0005;
const MAX_RECEIVE_COUNT = 5;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    processing: true,
    processingIntervalMs: 250,
    env: {
      HEADEND_DEADLINE_HOURS: String(DEADLINE_HOURS),
      IMMEDIATE_GRACE_SECONDS: '1',
      LEASE_SECONDS: '2',
      RETRY_BASE_SECONDS: '0.2',
      RETRY_CAP_SECONDS: '0.5',
      HEADEND_TIMEOUT_MS: '300',
      MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  stack.headend.setFaults({});
});

describe('a headend that stays unreachable past the deadline', () => {
  it('down: process-immediately and scheduled requests end REJECTED HEADEND_UNAVAILABLE, never executed', async () => {
    stack.headend.setFaults({ down: true });
    const callsBefore = stack.headend.callsReceived();
    const immediate = await createClearPin(stack.apiUrl, { processImmediately: true });
    const scheduled = await createClearPin(stack.apiUrl, {
      scheduledDate: scheduledDateAt(new Date(Date.now() + 1_000)),
      card: CARDS.otherKnown,
    });

    // While retries go on, clients see PENDING.
    await waitUntil(
      async () => stack.headend.callsReceived() - callsBefore,
      (calls) => calls >= 2,
      { timeoutMs: 5_000, describe: (calls) => `only ${calls} calls reached the headend` },
    );
    expect((await showRequest(stack.apiUrl, immediate.id)).life_cycle_state).toBe('PENDING');

    for (const created of [immediate, scheduled]) {
      const done = await waitForState(stack.apiUrl, created.id, 'REJECTED', 15_000);
      expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
      expect(done.error_description).toContain('CONNECTION_ERROR');
      expect(done.executed_date).not.toBeNull();
      expect(done.reference_number).toBeNull();
      expect(stack.headend.executions(created.id)).toBe(0);
    }
    // Retried more than once before giving up.
    expect(stack.headend.callsReceived() - callsBefore).toBeGreaterThan(2);

    // Once given up on, a request stays REJECTED even when the headend is back.
    stack.headend.setFaults({});
    // A message whose worker run failed outright (e.g. DynamoDB slow under load) comes back only after the
    // queue's 30 s visibility timeout; then the claim drops it.
    await waitUntil(
      () => queueCounts(stack.sqs, stack.queueUrl),
      (c) => c.visible + c.inFlight + c.delayed === 0,
      { timeoutMs: 40_000, describe: (c) => `work queue still holds ${JSON.stringify(c)}` },
    );
    expect((await showRequest(stack.apiUrl, immediate.id)).error_code).toBe('HEADEND_UNAVAILABLE');
    expect(stack.headend.executions(immediate.id)).toBe(0);
  }, 90_000);

  it('timing out: the request ends REJECTED HEADEND_UNAVAILABLE after its deadline', async () => {
    stack.headend.setFaults({ timeout: true });
    const created = await createClearPin(stack.apiUrl, { processImmediately: true, card: CARDS.otherKnown });

    const done = await waitForState(stack.apiUrl, created.id, 'REJECTED', 15_000);

    expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
    expect(done.error_description).toContain('TIMEOUT');
    expect(stack.headend.executions(created.id)).toBe(0);
  });
});

describe('a lost queue send', () => {
  it('a process-immediately request whose SQS send failed is found by the processing run and completes', async () => {
    // The API's use case with its real adapters, except that SQS is unreachable for this one create.
    const { clearPinDependencies } = await import('../../functions/api/composition.ts');
    const { createClearPin: createUseCase } = await import('../../functions/use-cases/create-clear-pin.ts');
    const { createWorkQueue } = await import('../../functions/adapters/work-queue.ts');
    const unreachable = new SQSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const queue = createWorkQueue(unreachable, stack.queueUrl);
    let sendFailures = 0;
    const created = await createUseCase(
      {
        ...clearPinDependencies,
        queue: {
          async send(ids) {
            const result = await queue.send(ids);
            sendFailures += result.failed.length;
            return result;
          },
        },
      },
      {
        body: {
          token: DEMO_TOKEN,
          subscription_identifier: { number: CARDS.known.subscription },
          smartcard_identifier: { serial_number: CARDS.known.serial },
          process_immediately: true,
        },
      },
    );
    unreachable.destroy();
    expect(sendFailures, 'the queue send really failed').toBe(1);
    expect(created.life_cycle_state).toBe('PENDING');

    const done = await waitForState(stack.apiUrl, created.id, 'COMPLETED', 10_000);
    expect(done.reference_number).not.toBeNull();
    expect(stack.headend.executions(created.id)).toBe(1);
  });
});

describe('poison messages', () => {
  it('go to the dead-letter queue after maxReceiveCount receives; their neighbours complete', async () => {
    // A short visibility timeout so the failed receives come round quickly.
    await stack.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: stack.queueUrl, Attributes: { VisibilityTimeout: '1' } }),
    );
    const unknownId = newId();
    const poison = ['this is not JSON {', JSON.stringify({ requestId: '' }), JSON.stringify({ hello: 'world' })];
    const callsBefore = stack.headend.callsReceived();
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queueUrl,
        Entries: [...poison, JSON.stringify({ requestId: unknownId })].map((body, i) => ({
          Id: String(i),
          MessageBody: body,
        })),
      }),
    );
    const healthy = await createClearPin(stack.apiUrl, { processImmediately: true });

    // Received in the same batches as the poison, the healthy request is not held back by it.
    const done = await waitForState(stack.apiUrl, healthy.id, 'COMPLETED', 5_000);
    expect(done.reference_number).not.toBeNull();

    await waitUntil(
      () => queueCounts(stack.sqs, stack.deadLetterQueueUrl),
      (c) => c.visible >= poison.length,
      { timeoutMs: 20_000, describe: (c) => `dead-letter queue holds ${JSON.stringify(c)}` },
    );
    const dead = await peekMessages(stack.sqs, stack.deadLetterQueueUrl);
    expect(dead.map((m) => m.Body).sort()).toEqual([...poison].sort());
    for (const message of dead) {
      expect(Number(message.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(MAX_RECEIVE_COUNT);
    }
    await waitUntil(
      () => queueCounts(stack.sqs, stack.queueUrl),
      (c) => c.visible + c.inFlight + c.delayed === 0,
      { timeoutMs: 40_000, describe: (c) => `the work queue still holds ${JSON.stringify(c)}` },
    );

    // A well-formed message naming no request is acknowledged, creates nothing and calls no headend.
    expect(await readItem(stack.document, stack.tableName, unknownId)).toBeUndefined();
    expect(stack.headend.executions(unknownId)).toBe(0);
    expect(stack.headend.callsReceived() - callsBefore).toBe(1);
  }, 90_000);
});
