import { SendMessageBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../functions/domain/identifiers.ts';
import { OTHER_KNOWN_CARD, seedBody } from '../helpers/demo.ts';
import { createRequest, showRequest } from '../helpers/http.ts';
import { peekMessages, queueCounts } from '../helpers/queue.ts';
import { readItem, scheduledDateAt, waitForState } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * Failures through the whole local stack (API, poller + worker, processing-run timer, simulator): a headend that
 * stays unreachable past the deadline, a lost queue send and poison messages. The deadline is tiny (1.8 s) so a
 * request that keeps failing is given up on within the test.
 */
const DEADLINE_HOURS = 0.0005;
const MAX_RECEIVE_COUNT = 5;

const stack = useLocalStack({
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

beforeEach(() => {
  stack().headend.setFaults({});
});

/** Waits until the queue holds no message at all: none waiting, in flight or delayed. */
const expectQueueEmpties = (queueUrl: string, timeout: number) =>
  expect
    .poll(() => queueCounts(stack().sqs, queueUrl), { timeout, interval: 100 })
    .toEqual({ visible: 0, inFlight: 0, delayed: 0 });

describe('a headend that stays unreachable past the deadline', () => {
  it('down: process-immediately and scheduled requests end REJECTED HEADEND_UNAVAILABLE, never executed', async () => {
    stack().headend.setFaults({ down: true });
    const callsBefore = stack().headend.callsReceived();
    const immediate = await createRequest(stack(), undefined, { process_immediately: true });
    const scheduled = await createRequest(stack(), OTHER_KNOWN_CARD, {
      scheduled_date: scheduledDateAt(new Date(Date.now() + 1_000)),
    });

    // While retries go on, clients see PENDING.
    await expect
      .poll(() => stack().headend.callsReceived() - callsBefore, {
        timeout: 5_000,
        interval: 100,
        message: 'calls that reached the headend',
      })
      .toBeGreaterThanOrEqual(2);
    expect((await showRequest(stack(), immediate.id)).life_cycle_state).toBe('PENDING');

    for (const created of [immediate, scheduled]) {
      const done = await waitForState(stack(), created.id, 'REJECTED', 15_000);
      expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
      expect(done.error_description).toContain('CONNECTION_ERROR');
      expect(done.executed_date).not.toBeNull();
      expect(done.reference_number).toBeNull();
      expect(stack().headend.executions(created.id)).toBe(0);
    }
    // Retried more than once before giving up.
    expect(stack().headend.callsReceived() - callsBefore).toBeGreaterThan(2);

    // Once given up on, a request stays REJECTED even when the headend is back.
    stack().headend.setFaults({});
    // A message whose worker run failed outright (e.g. DynamoDB slow under load) comes back only after the
    // queue's 30 s visibility timeout; then the claim drops it.
    await expectQueueEmpties(stack().queueUrl, 40_000);
    expect((await showRequest(stack(), immediate.id)).error_code).toBe('HEADEND_UNAVAILABLE');
    expect(stack().headend.executions(immediate.id)).toBe(0);
  }, 90_000);

  it('timing out: the request ends REJECTED HEADEND_UNAVAILABLE after its deadline', async () => {
    stack().headend.setFaults({ timeout: true });
    const created = await createRequest(stack(), OTHER_KNOWN_CARD, { process_immediately: true });

    const done = await waitForState(stack(), created.id, 'REJECTED', 15_000);

    expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
    expect(done.error_description).toContain('TIMEOUT');
    expect(stack().headend.executions(created.id)).toBe(0);
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
    const queue = createWorkQueue(unreachable, stack().queueUrl);
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
      { body: seedBody({ process_immediately: true }) },
    );
    unreachable.destroy();
    expect(sendFailures, 'the queue send really failed').toBe(1);
    expect(created.life_cycle_state).toBe('PENDING');

    const done = await waitForState(stack(), created.id, 'COMPLETED', 10_000);
    expect(done.reference_number).not.toBeNull();
    expect(stack().headend.executions(created.id)).toBe(1);
  });
});

describe('poison messages', () => {
  it('go to the dead-letter queue after maxReceiveCount receives; their neighbours complete', async () => {
    // A short visibility timeout so the failed receives come round quickly.
    await stack().sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: stack().queueUrl, Attributes: { VisibilityTimeout: '1' } }),
    );
    const unknownId = newId();
    const poison = ['this is not JSON {', JSON.stringify({ requestId: '' }), JSON.stringify({ hello: 'world' })];
    const callsBefore = stack().headend.callsReceived();
    await stack().sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack().queueUrl,
        Entries: [...poison, JSON.stringify({ requestId: unknownId })].map((body, i) => ({
          Id: String(i),
          MessageBody: body,
        })),
      }),
    );
    const healthy = await createRequest(stack(), undefined, { process_immediately: true });

    // Received in the same batches as the poison, the healthy request is not held back by it.
    const done = await waitForState(stack(), healthy.id, 'COMPLETED', 5_000);
    expect(done.reference_number).not.toBeNull();

    await expect
      .poll(async () => (await queueCounts(stack().sqs, stack().deadLetterQueueUrl)).visible, {
        timeout: 20_000,
        interval: 100,
        message: 'messages on the dead-letter queue',
      })
      .toBeGreaterThanOrEqual(poison.length);
    const dead = await peekMessages(stack().sqs, stack().deadLetterQueueUrl);
    expect(dead.map((m) => m.Body).sort()).toEqual([...poison].sort());
    for (const message of dead) {
      expect(Number(message.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(MAX_RECEIVE_COUNT);
    }
    await expectQueueEmpties(stack().queueUrl, 40_000);

    // A well-formed message naming no request is acknowledged, creates nothing and calls no headend.
    expect(await readItem(stack(), unknownId)).toBeUndefined();
    expect(stack().headend.executions(unknownId)).toBe(0);
    expect(stack().headend.callsReceived() - callsBefore).toBe(1);
  }, 90_000);
});
