import { describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/domain/errors.ts';
import type { ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import { type CreateClearPinDependencies, createClearPin } from '../../functions/use-cases/create-clear-pin.ts';
import {
  memoryReference,
  memoryRequests,
  ORGANISATION,
  recordingQueue,
  sessionsWithToken,
  TOKEN,
} from '../helpers/memory-ports.ts';
import { recordingTelemetry } from '../helpers/telemetry.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');

const setup = (overrides: Partial<CreateClearPinDependencies> = {}) => {
  const requests = memoryRequests();
  const queue = recordingQueue();
  const deps: CreateClearPinDependencies = {
    ...recordingTelemetry(),
    sessions: sessionsWithToken(NOW),
    reference: memoryReference(requests.requests),
    requests,
    queue,
    now: () => NOW,
    timeZone: 'UTC',
    dueShards: 4,
    immediateGraceMs: 60_000,
    ...overrides,
  };
  return { deps, requests, queue };
};

const body = (overrides: Record<string, unknown> = {}) => ({
  token: TOKEN,
  subscription_identifier: { number: 'S60507' },
  smartcard_identifier: { serial_number: 'smrt20000054' },
  ...overrides,
});

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe('createClearPin', () => {
  it('writes one PENDING request of the token’s organisation and answers it in CRM.COM’s shape', async () => {
    const { deps, requests } = setup();
    const view = await createClearPin(deps, { body: body() });
    expect(view).toMatchObject({ life_cycle_state: 'PENDING', number: '1', scheduled_date: '2026-03-10T12:00:00' });
    const stored = requests.requests.get(view.id) as ProvisioningRequest;
    expect(stored).toMatchObject({ organisation: ORGANISATION, smartcardCaId: 'smrt200000', attempts: 0 });
    expect(stored.idempotencyFingerprint).toBeUndefined();
  });

  it('judges the token before the fields, and the fields before the look-ups (SPEC §2.5)', async () => {
    const { deps, requests } = setup();
    expect((await refusal(createClearPin(deps, { body: body({ token: 'F'.repeat(32), priority: 'X' }) }))).code).toBe(
      'INVALID_TOKEN',
    );
    expect(
      (
        await refusal(
          createClearPin(deps, { body: body({ priority: 'X', subscription_identifier: { number: 'nope' } }) }),
        )
      ).code,
    ).toBe('INVALID_VALUE');
    expect(
      (await refusal(createClearPin(deps, { body: body({ subscription_identifier: { number: 'nope' } }) }))).code,
    ).toBe('SUBSCRIPTION_NOT_FOUND');
    expect(requests.requests.size).toBe(0);
  });

  it('queues a process-immediately request with the caller’s correlation id, and a lost send still answers it', async () => {
    const { deps, queue } = setup();
    const view = await createClearPin(deps, { body: body({ process_immediately: true }), correlationId: 'c-1' });
    expect(queue.sent).toEqual([{ ids: [view.id], correlationId: 'c-1' }]);

    const failing = recordingQueue(true);
    const telemetry = recordingTelemetry();
    const { deps: lossy, requests } = setup({ ...telemetry, queue: failing });
    const kept = await createClearPin(lossy, { body: body({ process_immediately: true }) });
    expect(requests.requests.get(kept.id)?.lifeCycleState).toBe('PENDING');
    expect(telemetry.counts.get('QueueSendFailures')).toBe(1);
  });

  it('with an Idempotency-Key: the request is its own record, a repeat answers the first response', async () => {
    const { deps, requests } = setup();
    const first = await createClearPin(deps, { body: body({ process_immediately: 'true' }), idempotencyKeys: ['k-1'] });
    const repeat = await createClearPin(deps, { body: body({ process_immediately: 1 }), idempotencyKeys: ['k-1'] });
    expect(repeat).toEqual(first);
    expect(requests.requests.size).toBe(1);
    expect(requests.requests.get(first.id)?.idempotencyFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers the first response even after the request moved on, and 422 for another request under the key', async () => {
    const { deps, requests } = setup();
    const first = await createClearPin(deps, { body: body(), idempotencyKeys: ['k-2'] });
    const stored = requests.requests.get(first.id) as ProvisioningRequest;
    requests.requests.set(first.id, { ...stored, lifeCycleState: 'COMPLETED', referenceNumber: 'R' });
    expect(await createClearPin(deps, { body: body(), idempotencyKeys: ['k-2'] })).toEqual(first);
    const reused = await refusal(
      createClearPin(deps, { body: body({ priority: 'EXPRESS' }), idempotencyKeys: ['k-2'] }),
    );
    expect({ code: reused.code, status: reused.status }).toEqual({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
  });

  it('answers the winner’s first response to a create that lost the race for the key’s id', async () => {
    const { deps, requests } = setup();
    // The look-up saw no request under the key, but an identical create wrote one before this one's write.
    const blind = { ...deps, reference: memoryReference(new Map()) };
    const winner = await createClearPin(deps, { body: body(), idempotencyKeys: ['k-3'] });
    expect(await createClearPin(blind, { body: body(), idempotencyKeys: ['k-3'] })).toEqual(winner);
    expect(requests.requests.size).toBe(1);
  });

  it('is 409 IN_PROGRESS, retry after 1 s, when the key’s id is taken but its request cannot be read yet', async () => {
    const { deps } = setup();
    const unreadable = {
      ...deps,
      reference: memoryReference(new Map()),
      requests: { ...deps.requests, create: async () => 'exists' as const, findById: async () => undefined },
    };
    const error = await refusal(createClearPin(unreadable, { body: body(), idempotencyKeys: ['k-4'] }));
    expect({ code: error.code, status: error.status, retryAfter: error.retryAfterSeconds }).toEqual({
      code: 'IDEMPOTENCY_KEY_IN_PROGRESS',
      status: 409,
      retryAfter: 1,
    });
  });

  it('scopes the key to the user: another user’s same key is another request', async () => {
    const { deps, requests } = setup();
    const mine = await createClearPin(deps, { body: body(), idempotencyKeys: ['shared'] });
    const sessions = sessionsWithToken(NOW);
    for (const [hash, value] of sessions.sessions)
      sessions.sessions.set(hash, { ...value, user: { ...value.user, id: '99' } });
    const theirs = await createClearPin({ ...deps, sessions }, { body: body(), idempotencyKeys: ['shared'] });
    expect(theirs.id).not.toBe(mine.id);
    expect(requests.requests.size).toBe(2);
  });
});
