import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventOutbox } from '../../functions/adapters/dynamo/event-outbox.ts';
import { createRequestClaims } from '../../functions/adapters/dynamo/request-claims.ts';
import { droppingPublisher } from '../../functions/adapters/events.ts';
import { fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { createGenericHeadendClient } from '../../functions/adapters/headend/generic.ts';
import { newId } from '../../functions/domain/identifiers.ts';
import { DEFAULT_RETRY_POLICY } from '../../functions/domain/retry-policy.ts';
import { type SendToHeadendDependencies, sendToHeadend } from '../../functions/use-cases/send-to-headend.ts';
import {
  DEFAULT_HEADEND_SECRET,
  type HeadendSimulator,
  startHeadendSimulator,
} from '../../infra/local/headend-simulator.ts';
import { KNOWN_CARD, OTHER_KNOWN_CARD } from '../helpers/demo.ts';
import { createRequest, showRequest } from '../helpers/http.ts';
import { useLocalStack } from '../helpers/stack.ts';
import { recordingTelemetry } from '../helpers/telemetry.ts';

/**
 * The worker's use case with its real adapters (DynamoDB claims on dynalite, the generic client over HTTP to
 * the simulator): how the retry decision plays out on the wire. The simulator's failures are drawn from a
 * script, so "the first call fails, the retry gets through" is exact.
 */
const stack = useLocalStack({ processing: false });
let simulator: HeadendSimulator;
let draws: number[] = [];

beforeAll(async () => {
  simulator = await startHeadendSimulator({
    knownCards: [KNOWN_CARD.caId, OTHER_KNOWN_CARD.caId],
    random: () => draws.shift() ?? 0.99,
  });
});

afterAll(async () => {
  await simulator?.stop();
});

beforeEach(() => {
  simulator.reset();
  draws = [];
});

const deps = (overrides: Partial<SendToHeadendDependencies> = {}): SendToHeadendDependencies => ({
  ...recordingTelemetry(),
  claims: createRequestClaims(stack().document, stack().tableName),
  events: droppingPublisher,
  outbox: createEventOutbox(stack().document, stack().tableName),
  timeZone: 'UTC',
  headend: createGenericHeadendClient({
    url: simulator.url,
    secret: fixedCredential(DEFAULT_HEADEND_SECRET),
    timeoutMs: 2_000,
  }),
  now: () => new Date(),
  leaseMs: 1_000,
  retry: { ...DEFAULT_RETRY_POLICY, inCall: { retries: 2, baseMs: 10, capMs: 50 } },
  ...overrides,
});

const job = (requestId: string, receiveCount = 1) => ({ requestId, processId: newId(), receiveCount });

describe('sending one request: the in-call retries of the retry decision', () => {
  it('rides out a share of 503 answers with in-call retries', async () => {
    simulator.setFaults({ failRate: 0.5 });
    // Every first call of a command fails, every retry gets through.
    draws = Array.from({ length: 5 }, () => [0.1, 0.9]).flat();
    const created = await Promise.all(Array.from({ length: 5 }, () => createRequest(stack())));

    const results = [];
    for (const request of created) results.push(await sendToHeadend(deps(), job(request.id)));

    expect(results).toEqual(Array(5).fill({ kind: 'done', state: 'COMPLETED' }));
    expect(simulator.callsReceived()).toBe(10);
    expect(simulator.totalExecutions()).toBe(5);
  });

  it('gives up the invocation after its in-call retries when every call gets 503, and releases the claim', async () => {
    simulator.setFaults({ failRate: 1 });
    const created = await createRequest(stack());

    const result = await sendToHeadend(deps(), job(created.id));

    expect(result).toMatchObject({ kind: 'retry-later' });
    expect(simulator.callsReceived()).toBe(3);
    expect(simulator.executions(created.id)).toBe(0);
    expect((await showRequest(stack(), created.id)).life_cycle_state).toBe('PENDING');
    // Released: a second worker can claim it at once.
    simulator.setFaults({});
    expect(await sendToHeadend(deps(), job(created.id))).toEqual({ kind: 'done', state: 'COMPLETED' });
  });

  it('does not call again at once when the headend refuses the credential, and counts it for the alarm', async () => {
    const created = await createRequest(stack());
    const telemetry = recordingTelemetry();
    const wrong = deps({
      ...telemetry,
      headend: createGenericHeadendClient({ url: simulator.url, secret: fixedCredential('wrong'), timeoutMs: 2_000 }),
    });

    const result = await sendToHeadend(wrong, job(created.id));

    expect(result).toMatchObject({ kind: 'retry-later' });
    expect(simulator.callsReceived()).toBe(1);
    expect(telemetry.counts.get('HeadendUnauthorized')).toBe(1);
    expect(telemetry.lines.some((l) => l.level === 'ERROR' && l.message.includes('credential'))).toBe(true);
  });

  it("makes no more calls once the invocation's own deadline has passed", async () => {
    simulator.setFaults({ timeout: true });
    const created = await createRequest(stack());

    const result = await sendToHeadend(
      deps({
        headend: createGenericHeadendClient({
          url: simulator.url,
          secret: fixedCredential(DEFAULT_HEADEND_SECRET),
          timeoutMs: 30_000,
        }),
      }),
      { ...job(created.id), signal: AbortSignal.timeout(200) },
    );

    expect(result).toMatchObject({ kind: 'retry-later' });
    expect(simulator.callsReceived()).toBe(1);
  }, 10_000);

  it('hands the request back to the processing run when one more receive would dead-letter the message', async () => {
    simulator.setFaults({ failRate: 1 });
    const created = await createRequest(stack());

    const result = await sendToHeadend(deps(), job(created.id, DEFAULT_RETRY_POLICY.maxReceiveCount - 1));

    expect(result).toMatchObject({ kind: 'hand-back' });
    expect((await showRequest(stack(), created.id)).life_cycle_state).toBe('PENDING');
  });
});
