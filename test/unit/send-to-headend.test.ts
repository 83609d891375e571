import { describe, expect, it } from 'vitest';
import { newProvisioningRequest, type ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import { DEFAULT_RETRY_POLICY, HEADEND_UNAVAILABLE } from '../../functions/domain/retry-policy.ts';
import { type SendToHeadendDependencies, sendToHeadend } from '../../functions/use-cases/send-to-headend.ts';
import {
  memoryClaims,
  memoryOutbox,
  recordingEvents,
  SMARTCARD,
  SUBSCRIPTION,
  scriptedHeadend,
  session,
} from '../helpers/memory-ports.ts';
import { recordingTelemetry } from '../helpers/telemetry.ts';

const CREATED = new Date('2026-03-10T12:00:00.000Z');
const accepted = { kind: 'accepted' as const, referenceNumber: 'REF-1', request: '{}', response: '{}' };
const refused = {
  kind: 'rejected' as const,
  errorCode: 'UNKNOWN_SMARTCARD',
  errorDescription: 'unknown',
  request: '{}',
  response: '{}',
};
const blip = { kind: 'transient' as const, reason: 'SERVER_ERROR', status: 503 };

const setup = (outcomes: Parameters<typeof scriptedHeadend>, now = CREATED) => {
  const request = newProvisioningRequest(
    { priority: 'REGULAR', processImmediately: true },
    { subscription: SUBSCRIPTION, smartcard: { ...SMARTCARD, smartcard_ca_id: 'smrt200000' } },
    session(CREATED),
    '1',
    CREATED,
  );
  const requests = new Map<string, ProvisioningRequest>([[request.id, request]]);
  const claims = memoryClaims(requests);
  const headend = scriptedHeadend(...outcomes);
  const events = recordingEvents();
  const outbox = memoryOutbox();
  const telemetry = recordingTelemetry();
  const deps: SendToHeadendDependencies = {
    ...telemetry,
    claims,
    headend,
    events,
    outbox,
    timeZone: 'UTC',
    now: () => now,
    leaseMs: 120_000,
    retry: { ...DEFAULT_RETRY_POLICY, inCall: { retries: 1, baseMs: 1, capMs: 1 } },
  };
  return { deps, request, requests, claims, headend, events, outbox, telemetry };
};

const job = (requestId: string, receiveCount = 1) => ({ requestId, processId: 'P-1', receiveCount });

describe('sendToHeadend', () => {
  it('completes an accepted request under its claim, numbers it, and publishes its event at once', async () => {
    const { deps, request, requests, events, outbox } = setup([accepted]);
    expect(await sendToHeadend(deps, job(request.id))).toEqual({ kind: 'done', state: 'COMPLETED' });
    expect(requests.get(request.id)).toMatchObject({
      lifeCycleState: 'COMPLETED',
      referenceNumber: 'REF-1',
      sequenceNumber: '1',
      processId: 'P-1',
    });
    expect(events.published.map((e) => [e.requestId, e.detailType])).toEqual([
      [request.id, 'Provisioning Request Completed'],
    ]);
    expect(outbox.done).toEqual([request.id]);
  });

  it('rejects a refused request with the headend’s code, and publishes that too', async () => {
    const { deps, request, requests, events } = setup([refused]);
    expect(await sendToHeadend(deps, job(request.id))).toEqual({ kind: 'done', state: 'REJECTED' });
    expect(requests.get(request.id)).toMatchObject({ lifeCycleState: 'REJECTED', errorCode: 'UNKNOWN_SMARTCARD' });
    expect(events.published[0]?.detailType).toBe('Provisioning Request Rejected');
  });

  it('does nothing with a request another worker holds or that is final', async () => {
    const { deps, request, headend, claims } = setup([accepted]);
    await claims.claim(request.id, 'other', CREATED, new Date(CREATED.getTime() + 60_000));
    expect(await sendToHeadend(deps, job(request.id))).toEqual({ kind: 'done', state: 'NOT_CLAIMED' });
    expect(headend.calls).toEqual([]);
  });

  it('rides out one blip with its in-call retry', async () => {
    const { deps, request, headend } = setup([blip, accepted]);
    expect(await sendToHeadend(deps, job(request.id))).toEqual({ kind: 'done', state: 'COMPLETED' });
    expect(headend.calls).toHaveLength(2);
  });

  it('releases the claim with a back-off after its in-call retries, for the queue or the processing run', async () => {
    const { deps, request, claims, requests } = setup([blip]);
    const later = await sendToHeadend(deps, job(request.id));
    expect(later).toMatchObject({ kind: 'retry-later' });
    expect(claims.released).toHaveLength(1);
    expect(requests.get(request.id)?.lifeCycleState).toBe('PENDING');
    const handedBack = setup([blip]);
    expect(await sendToHeadend(handedBack.deps, job(handedBack.request.id, 4))).toMatchObject({ kind: 'hand-back' });
  });

  it('gives up at the deadline: REJECTED HEADEND_UNAVAILABLE, and its event', async () => {
    const dayLater = new Date(CREATED.getTime() + 25 * 3600_000);
    const { deps, request, requests, events } = setup([blip], dayLater);
    expect(await sendToHeadend(deps, job(request.id))).toEqual({ kind: 'done', state: 'REJECTED' });
    expect(requests.get(request.id)).toMatchObject({ lifeCycleState: 'REJECTED', errorCode: HEADEND_UNAVAILABLE });
    expect(events.published).toHaveLength(1);
  });

  it('leaves an event it could not publish in the outbox, for the processing run', async () => {
    const { deps, request, outbox, telemetry } = setup([accepted]);
    const failing = recordingEvents(true);
    expect(await sendToHeadend({ ...deps, events: failing }, job(request.id))).toEqual({
      kind: 'done',
      state: 'COMPLETED',
    });
    expect(outbox.done).toEqual([]);
    expect(telemetry.counts.get('EventPublishFailures')).toBe(1);
  });
});
