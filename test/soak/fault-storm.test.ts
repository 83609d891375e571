import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { HeadendFaults } from '../../infra/local/headend-simulator.ts';
import { CARDS, type DemoCard } from '../helpers/demo.ts';
import { createClearPin, idIn } from '../helpers/http.ts';
import { peekMessages } from '../helpers/queue.ts';
import { isFinal, storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * A fault storm: clients create clear-PINs without pause while the headend, SQS and DynamoDB fail in turn
 * (STORM_SECONDS, default 90). Afterwards every fault is lifted, and:
 * - every create answered 200 is in the table, final, and executed exactly once by the headend;
 * - every other answer was 503 SERVICE_UNAVAILABLE (only while DynamoDB was cut), never a 5xx of any other kind;
 * - every request in the table, whoever created it, ends COMPLETED (or REJECTED for the unknown card), executed
 *   exactly once; numbers are distinct.
 * A request can be in the table with its create answered 503: DynamoDB applied the write and the connection was
 * cut before the reply came back, so the API could not know. Such requests are not lost either (they complete);
 * the test counts them.
 */
const STORM_MS = Number(process.env.STORM_SECONDS ?? 90) * 1000;
const CLIENTS = 6;
const CLIENT_PAUSE_MS = 400;

const stack = useLocalStack({ faultProxies: true, processingIntervalMs: 500 });

/** A small seeded generator, so a storm's sequence of faults is the same from run to run. */
const seeded = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

const HEADEND_FAULTS: [string, HeadendFaults][] = [
  ['headend down', { down: true }],
  ['headend slower than the client timeout', { latencyMs: 1_000 }],
  ['headend never answers', { timeout: true }],
  ['headend 503 half the time', { failRate: 0.5 }],
  ['headend 429 above 3/s', { rateLimitPerSecond: 3 }],
  ['headend healthy', {}],
];

describe(`a ${STORM_MS / 1000} s fault storm`, () => {
  it('loses no request and executes none twice', async () => {
    const random = seeded(Number(process.env.STORM_SEED ?? 7));
    const injected: Record<string, number> = {};
    const answers: Record<string, number> = {};
    const ok = new Set<string>();
    const end = Date.now() + STORM_MS;

    const client = async (lane: number) => {
      for (let i = 0; Date.now() < end; i++) {
        const card = CARDS[(lane + i) % CARDS.length] as DemoCard;
        const reply = await createClearPin(stack(), card, {
          process_immediately: i % 2 === 0,
          priority: i % 3 === 0 ? 'EXPRESS' : 'REGULAR',
        });
        const key = `${reply.status} ${reply.body?.status.code}`;
        answers[key] = (answers[key] ?? 0) + 1;
        if (reply.status === 200) ok.add(idIn(reply));
        // About a dozen creates a second in all: the headend's 50 calls a second drain them between faults.
        await sleep(CLIENT_PAUSE_MS);
      }
    };

    const chaos = async () => {
      const { dynamoProxy: dynamo, sqsProxy: queue } = stack();
      while (Date.now() < end) {
        const roll = random();
        if (roll < 0.6) {
          const [name, faults] = HEADEND_FAULTS[Math.floor(random() * HEADEND_FAULTS.length)] as [
            string,
            HeadendFaults,
          ];
          stack().headend.setFaults(faults);
          injected[name] = (injected[name] ?? 0) + 1;
          await sleep(1_500 + random() * 2_000);
        } else if (roll < 0.8) {
          queue.cut();
          injected['SQS cut'] = (injected['SQS cut'] ?? 0) + 1;
          await sleep(1_000 + random() * 3_000);
          queue.restore();
        } else {
          dynamo.cut();
          injected['DynamoDB cut'] = (injected['DynamoDB cut'] ?? 0) + 1;
          await sleep(200 + random() * 1_300);
          dynamo.restore();
        }
      }
      stack().headend.setFaults({});
      queue.restore();
      dynamo.restore();
    };

    await Promise.all([chaos(), ...Array.from({ length: CLIENTS }, (_, lane) => client(lane))]);

    // Every answer was a 200, or a 503 while DynamoDB was cut.
    expect(Object.keys(answers).filter((k) => k !== '200 OK' && k !== '503 SERVICE_UNAVAILABLE')).toEqual([]);

    const items = await vi.waitFor(
      async () => {
        const all = await storedRequests(stack());
        const notFinal = [...all.values()].filter((item) => !isFinal(item)).length;
        if (notFinal > 0) throw new Error(`not final: ${notFinal}`);
        return all;
      },
      { timeout: 300_000, interval: 1_000 },
    );

    const problems: string[] = [];
    for (const id of ok) if (!items.has(id)) problems.push(`${id} was answered 200 but is not in the table`);
    for (const [id, item] of items) {
      const unknownCard = !CARDS.find((card) => card.caId === item.smartcardCaId)?.headendKnows;
      const expected = unknownCard ? 'REJECTED' : 'COMPLETED';
      if (item.lifeCycleState !== expected) problems.push(`${id} is ${item.lifeCycleState}`);
      if (unknownCard && item.errorCode !== 'UNKNOWN_SMARTCARD') problems.push(`${id} rejected ${item.errorCode}`);
      if (stack().headend.executions(id) !== 1) problems.push(`${id} executed ${stack().headend.executions(id)} times`);
    }
    expect(problems).toEqual([]);
    expect(new Set([...items.values()].map((i) => i.number)).size).toBe(items.size);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);

    const ambiguous = [...items.keys()].filter((id) => !ok.has(id)).length;
    expect(ambiguous).toBeLessThanOrEqual(answers['503 SERVICE_UNAVAILABLE'] ?? 0);
    const deadLettered = await peekMessages(stack().sqs, stack().deadLetterQueueUrl);
    console.info(
      `fault storm (${STORM_MS / 1000} s, ${CLIENTS} clients): answers ${JSON.stringify(answers)}; faults injected ` +
        `${JSON.stringify(injected)}; requests in the table ${items.size}, all final, each executed once; ` +
        `answered 503 but written (ambiguous) ${ambiguous}; dead-lettered messages seen ${deadLettered.length}`,
    );
  });
});
