import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../infra/local/api-front.ts';
import { DEMO_TOKEN, KNOWN_CARD } from '../helpers/demo.ts';
import { createClearPin, idIn, login, postJson, type Reply, ROUTES, show } from '../helpers/http.ts';
import { envelopeProblems, expectUnavailable } from '../helpers/oracle.ts';
import { type Created, isFinal, settledProblems, storedRequests, waitUntilFinal } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * DynamoDB unreachable from the functions (SPEC §2.5: 503 SERVICE_UNAVAILABLE, Retry-After, nothing half-written).
 * The functions reach DynamoDB through a TCP proxy that the test cuts, before any request or after exactly n of a
 * create's requests, or whose reply it loses; the test reads the table directly. The scheduled processing run
 * fires once at start only and the test invokes it itself between creates (as EventBridge would), so every
 * DynamoDB request through the proxy while it is armed belongs to the create under test.
 */
const stack = useLocalStack({
  faultProxies: true,
  processingIntervalMs: 3_600_000,
  // A short API timeout makes a failed attempt's in-progress idempotency record lapse in seconds, not 29.
  apiTimeoutMs: 4_000,
});
const proxy = () => stack().dynamoProxy;
const completedLater: Created[] = [];

const card = KNOWN_CARD;

/** One processing run, as the EventBridge schedule would start it. */
const runProcessing = async () => {
  const { handler } = await import('../../functions/processing-run/handler.ts');
  await handler(
    { id: 'test', time: new Date().toISOString(), detail: {} } as never,
    lambdaContext('clear-pin-processing-run', 60_000),
  );
};

/**
 * The request ids in the table once every request is final: a request whose worker met the outage mid-way is
 * picked up again by the processing run once its lease ends.
 */
const quietIds = async () => {
  const items = await vi.waitFor(
    async () => {
      const all = await storedRequests(stack());
      const pending = [...all.values()].filter((item) => !isFinal(item)).length;
      if (pending === 0) return all;
      await runProcessing();
      throw new Error(`${pending} requests are not final yet`);
    },
    { timeout: 20_000, interval: 200 },
  );
  return new Set(items.keys());
};

const numberCounter = async () =>
  (
    await stack().document.send(
      new GetCommand({ TableName: stack().tableName, Key: { pk: 'SEQ#provisioning-request-number' } }),
    )
  ).Item?.value as number | undefined;

describe('DynamoDB is unreachable', () => {
  // First, while the SDK's retry quota is full: after the outages below it is drained for a while, and a lost
  // reply is then answered 503 (nothing written) instead of being retried.
  it.each([
    ['without an Idempotency-Key', false],
    ['with an Idempotency-Key', true],
  ])('loses one reply at each step of a create %s: exactly one request per 200, none otherwise', async (_, withKey) => {
    const outcomes: number[] = [];
    for (let step = 0; step <= 7; step++) {
      const before = await quietIds();
      proxy().loseReplyAfterRequests(step);
      const reply = await createClearPin(
        stack(),
        card,
        { process_immediately: true },
        withKey ? { 'Idempotency-Key': `blip-${step}` } : {},
      );
      proxy().restore();
      const added = [...(await storedRequests(stack())).keys()].filter((id) => !before.has(id));
      expect(envelopeProblems(reply)).toEqual([]);
      if (reply.status === 200) {
        const data = reply.body?.data as { id: string; number: string };
        expect(added).toEqual([data.id]);
        completedLater.push({ id: data.id, number: data.number, card });
      } else {
        // A lost reply to the idempotency record's own first write makes its retry find that record: the key is
        // then "in progress" until the record's lease ends. Nothing was created.
        expect(withKey, reply.text).toBe(true);
        expect(reply.status).toBe(409);
        expect(added).toEqual([]);
      }
      outcomes.push(reply.status);
    }
    expect(outcomes.filter((status) => status === 200).length).toBeGreaterThanOrEqual(6);
  });

  it('answers every route 503 SERVICE_UNAVAILABLE with Retry-After, and writes nothing', async () => {
    const before = await quietIds();
    const counterBefore = await numberCounter();
    proxy().cut();
    const replies = [
      await login(stack()),
      await createClearPin(stack(), card, { process_immediately: true }),
      await createClearPin(stack(), card, {}, { 'Idempotency-Key': 'down-1' }),
      await show(stack(), 'number=1'),
      await postJson(stack(), ROUTES.release, { token: DEMO_TOKEN }),
    ];
    proxy().restore();
    for (const reply of replies) expectUnavailable(reply);
    expect(await quietIds()).toEqual(before);
    expect(await numberCounter()).toBe(counterBefore);
  });

  it.each([
    ['without an Idempotency-Key', false],
    ['with an Idempotency-Key', true],
  ])(
    'cut after each step of a create %s: a 503 never leaves a request behind, a 200 always has one',
    async (_, withKey) => {
      const outcomes: number[] = [];
      for (let step = 0; step <= 6; step++) {
        const before = await quietIds();
        proxy().cutAfterRequests(step);
        const reply = await createClearPin(
          stack(),
          card,
          { process_immediately: true },
          withKey ? { 'Idempotency-Key': `cut-${step}` } : {},
        );
        proxy().restore();
        outcomes.push(reply.status);
        const after = new Set((await storedRequests(stack())).keys());
        if (reply.status === 503) {
          expectUnavailable(reply);
          expect(after, `a 503 after ${step} steps left a request behind`).toEqual(before);
        } else {
          expect(reply.status, reply.text).toBe(200);
          const data = reply.body?.data as { id: string; number: string };
          expect([...after].filter((id) => !before.has(id))).toEqual([data.id]);
          completedLater.push({ id: data.id, number: data.number, card });
        }
      }
      // The cut fell before the write (503) and after it (200).
      expect(outcomes).toContain(503);
      expect(outcomes).toContain(200);
    },
  );

  it('retried with the same Idempotency-Key until 200, ends with exactly one request per key', async () => {
    const before = await quietIds();
    const keys = Array.from({ length: 8 }, (_, step) => `retry-${step}`);
    const first: Reply[] = [];
    for (const [step, key] of keys.entries()) {
      proxy().cutAfterRequests(step);
      first.push(await createClearPin(stack(), card, { process_immediately: true }, { 'Idempotency-Key': key }));
      proxy().restore();
    }
    expect(first.map((r) => r.status)).toContain(503);
    expect(first.map((r) => r.status)).toContain(200);
    // A client retries every key (a 200 can be lost on its way back too) until each answers 200; meanwhile only
    // "in progress" refusals.
    const final = new Map<string, Reply>();
    const unexpected: string[] = [];
    await vi.waitFor(
      async () => {
        for (const key of keys) {
          if (final.get(key)?.status === 200) continue;
          const reply = await createClearPin(stack(), card, { process_immediately: true }, { 'Idempotency-Key': key });
          if (![200, 409].includes(reply.status)) unexpected.push(reply.text);
          final.set(key, reply);
        }
        // An unexpected answer ends the wait at once, and fails the check below it.
        if (unexpected.length === 0) expect(keys.filter((key) => final.get(key)?.status !== 200)).toEqual([]);
      },
      { timeout: 20_000, interval: 500 },
    );
    expect(unexpected, 'answers other than 200 and 409').toEqual([]);
    const ids = keys.map((key) => idIn(final.get(key)));
    first.forEach((reply, step) => {
      if (reply.status === 200) expect(idIn(reply)).toBe(ids[step]);
    });
    const added = [...(await storedRequests(stack())).keys()].filter((id) => !before.has(id));
    expect(added.sort()).toEqual([...ids].sort());
    completedLater.push(
      ...ids.map((id, step) => ({ id, number: String(final.get(keys[step] as string)?.body?.data?.number), card })),
    );
  });

  it('completes every request it accepted, each executed once', async () => {
    await quietIds();
    await waitUntilFinal(
      stack(),
      completedLater.map((c) => c.id),
      20_000,
    );
    expect(await settledProblems(stack(), completedLater)).toEqual([]);
  });
});
