import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../infra/local/api-front.ts';
import { createMany, settledProblems, storedRequests, waitUntilFinal } from '../helpers/requests.ts';
import { FAST_PROCESSING_ENV, useLocalStack } from '../helpers/stack.ts';

/**
 * A worker that dies mid-batch (SPEC §3: "re-takes requests whose claim lease has run out (a crashed worker)").
 * The deployed worker handler runs in a child process on a batch of requests that are not due for a day, so only
 * it touches them; it is killed with SIGKILL while one headend call is in flight, with some requests done and the
 * rest claimed. Once the leases run out, the processing run and the local stack's worker finish them all, and the
 * headend executes each exactly once (the call in flight at the kill executes at the headend, unrecorded here).
 */
const stack = useLocalStack({ processingIntervalMs: 500, env: FAST_PROCESSING_ENV });

const ROOT = join(import.meta.dirname, '..', '..');
const tomorrow = () => new Date(Date.now() + 24 * 3600 * 1000).toISOString();

const sqsRecord = (requestId: string, index: number): SQSRecord => ({
  messageId: `crash-${index}`,
  receiptHandle: `crash-${index}`,
  body: JSON.stringify({ requestId }),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(Date.now()),
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:work',
  awsRegion: 'us-east-1',
});

/** The deployed worker handler, in its own process, given one SQS batch. */
const WORKER_CHILD = `
const { handler } = await import(process.env.CRASH_WORKER_MODULE);
const { lambdaContext } = await import(process.env.CRASH_FRONT_MODULE);
await handler(JSON.parse(process.env.CRASH_EVENT), lambdaContext('clear-pin-worker', 30000));
process.stdout.write('finished\\n');
`;

describe('a worker dies mid-batch', () => {
  it('is killed with calls in flight: every request still completes, each executed once', async () => {
    const created = await createMany(stack(), 6, { extra: () => ({ scheduled_date: tomorrow() }) });
    const ids = created.map((c) => c.id);
    stack().headend.setFaults({ latencyMs: 400 });
    const callsBefore = stack().headend.callsReceived();

    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER_CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        HEADEND_MAX_CONCURRENCY: '1',
        POWERTOOLS_LOG_LEVEL: 'CRITICAL',
        CRASH_WORKER_MODULE: pathToFileURL(join(ROOT, 'functions/worker/handler.ts')).href,
        CRASH_FRONT_MODULE: pathToFileURL(join(ROOT, 'infra/local/api-front.ts')).href,
        CRASH_EVENT: JSON.stringify({ Records: ids.map(sqsRecord) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = once(child, 'exit');

    // Two calls answered and a third one in flight at the headend: kill.
    await vi.waitFor(
      () => expect(stack().headend.callsReceived() - callsBefore, `worker output: ${output}`).toBeGreaterThanOrEqual(3),
      { timeout: 20_000, interval: 250 },
    );
    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(output).not.toContain('finished');

    // The dead worker left requests claimed and PENDING.
    const atKill = await storedRequests(stack());
    const claimed = ids.filter((id) => atKill.get(id)?.lifeCycleState === 'PENDING' && atKill.get(id)?.claimId);
    expect(claimed.length).toBeGreaterThanOrEqual(3);
    // The call in flight at the kill still executes at the headend: executed there, unrecorded here.
    await vi.waitFor(
      async () => {
        const items = await storedRequests(stack());
        const unrecorded = ids.filter(
          (id) => stack().headend.executions(id) === 1 && items.get(id)?.lifeCycleState === 'PENDING',
        );
        expect(unrecorded, 'requests executed at the headend and PENDING here').not.toEqual([]);
      },
      { timeout: 2_000, interval: 50 },
    );

    stack().headend.setFaults({});
    await waitUntilFinal(stack(), ids, 30_000);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });

  it('is cut short by its own deadline mid-call: the request is released, retried and executed once', async () => {
    const created = await createMany(stack(), 2, { extra: () => ({ scheduled_date: tomorrow() }) });
    const ids = created.map((c) => c.id);
    stack().headend.setFaults({ latencyMs: 1_500 });
    const { handler } = await import('../../functions/worker/handler.ts');
    // 3 s left: the worker bounds its headend call to 1 s and gives up on it.
    const context = { ...lambdaContext('clear-pin-worker', 3_000) };
    // Both records fail (their fake receipt handles cannot be re-timed either): both go back to the queue, and
    // the invocation itself succeeds, so Lambda does not slow its polling down.
    const response = await handler({ Records: ids.map(sqsRecord) }, context);
    expect(
      response?.batchItemFailures.map((failure: { itemIdentifier: string }) => failure.itemIdentifier).sort(),
    ).toEqual(['crash-0', 'crash-1']);
    const released = await storedRequests(stack());
    for (const id of ids) {
      expect(released.get(id)?.lifeCycleState).toBe('PENDING');
      expect(released.get(id)?.claimId).toBeUndefined();
    }
    // The headend still executes both aborted commands after its delay.
    await expect
      .poll(() => ids.map((id) => stack().headend.executions(id)), { timeout: 10_000, interval: 250 })
      .toEqual(ids.map(() => 1));
    stack().headend.setFaults({});
    await waitUntilFinal(stack(), ids, 30_000);
    expect(await settledProblems(stack(), created)).toEqual([]);
  });
});
