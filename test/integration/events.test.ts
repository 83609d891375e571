import '../helpers/quiet-powertools.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequestClaims } from '../../functions/adapters/dynamo/request-claims.ts';
import { newId } from '../../functions/domain/identifiers.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  clearPinBody,
  DEMO_ORGANISATION,
  DEMO_TOKEN,
  type DemoCard,
  KNOWN_CARD,
  OTHER_KNOWN_CARD,
  OTHER_LOGIN,
  OTHER_ORGANISATION,
  OTHER_ORGANISATION_CARD,
  UNKNOWN_CARD,
} from '../helpers/demo.ts';
import {
  type CrmRequest,
  createRequest,
  login,
  postJson,
  type Reply,
  ROUTES,
  showRequest,
  tokenIn,
} from '../helpers/http.ts';
import { envelopeProblems } from '../helpers/oracle.ts';
import { readItem, scheduledDateAt, waitForState } from '../helpers/requests.ts';
import { FAST_PROCESSING_ENV } from '../helpers/stack.ts';
import { type EventBridgeEvent, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.ts';

/**
 * SPEC §3.1 on the local stack (the real API, poller, worker and processing run): every final state — COMPLETED,
 * REJECTED by the headend, cancelled, rejected at the retry deadline — POSTs its EventBridge event to
 * `EVENTS_WEBHOOK_URL`; while the receiver is unavailable (503, refusing connections, or hanging) events are late,
 * never lost. Delivery is at least once: the test dedupes on `detail.id`, as a consumer would, and counts the
 * duplicates.
 */

/** SPEC §2.7 and §3.1, restated on purpose. */
const CANCEL = '/provisioning/provisioning_requests/cancel';
const SOURCE = 'clear-pin.local';
const DETAIL_TYPE = { COMPLETED: 'Provisioning Request Completed', REJECTED: 'Provisioning Request Rejected' };
/** The fields SPEC §3.1 names, and the rest of an EventBridge event's envelope (AWS's documented event structure). */
const SPEC_EVENT_FIELDS = ['version', 'id', 'detail-type', 'source', 'time', 'detail'];
const EVENTBRIDGE_FIELDS = [...SPEC_EVENT_FIELDS, 'account', 'region', 'resources'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A retry deadline of 4 s (SPEC §3: configurable, 24 h by default), so a request whose headend stays down is
 * REJECTED HEADEND_UNAVAILABLE within the test.
 */
const DEADLINE_HOURS = String(4 / 3600);

/** How long an outbox entry is left to its writer before the processing run sweeps it (publish-events.ts). */
const SWEEP_GRACE_MS = 10_000;
/** Long enough for the sweep grace, a few processing runs and a loaded machine. */
const DELIVERY_TIMEOUT_MS = SWEEP_GRACE_MS + 25_000;

let receiver: WebhookReceiver;
let stack: LocalStack;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startLocalStack({
    port: 0,
    processingIntervalMs: 1_000,
    env: { ...FAST_PROCESSING_ENV, EVENTS_WEBHOOK_URL: receiver.url, HEADEND_DEADLINE_HOURS: DEADLINE_HOURS },
  });
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

beforeEach(() => {
  stack.headend.setFaults({});
  receiver.setMode({ kind: 'accept' });
});

/** Far enough ahead that the processing run leaves it alone: it ends only by a cancel or by the test. */
const LATER = () => scheduledDateAt(new Date(Date.now() + 300 * 24 * 3600_000));

const cancel = async (id: string): Promise<Reply> => {
  const reply = await postJson(stack, CANCEL, { token: DEMO_TOKEN, provisioning_request_identifier: { id } });
  expect(envelopeProblems(reply), reply.text).toEqual([]);
  return reply;
};

/** The final state's expected shape on the wire, from show (SPEC §3.1: show's answer without request/response). */
const eventProblems = (event: EventBridgeEvent, shown: CrmRequest & Record<string, unknown>): string[] => {
  const problems: string[] = [];
  const same = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
    }
  };
  const fields = Object.keys(event);
  for (const f of SPEC_EVENT_FIELDS) if (!fields.includes(f)) problems.push(`no ${f}`);
  for (const f of fields) if (!EVENTBRIDGE_FIELDS.includes(f)) problems.push(`${f} is not an EventBridge field`);
  same('version', event.version, '0');
  if (!UUID.test(String(event.id))) problems.push(`id ${event.id}`);
  same('detail-type', event['detail-type'], DETAIL_TYPE[shown.life_cycle_state as 'COMPLETED' | 'REJECTED']);
  same('source', event.source, SOURCE);
  // EventBridge's form, UTC with Z; the instant the request became final (the operator zone here is UTC).
  same('time', event.time, `${(shown.log_information as { updated_date: string }).updated_date}Z`);
  const { request: _request, response: _response, ...view } = shown;
  same('detail', event.detail, { ...view, organisation: DEMO_ORGANISATION.name });
  return problems;
};

/** Waits (bounded) until the receiver has accepted an event for every request; answers them by request id. */
const eventsFor = (ids: string[], timeout = DELIVERY_TIMEOUT_MS) =>
  vi.waitFor(
    () => {
      const byRequest = receiver.acceptedByRequest();
      const missing = ids.filter((id) => !byRequest.has(id));
      if (missing.length > 0) throw new Error(`no event yet for ${missing.length} of ${ids.length}: ${missing}`);
      return byRequest;
    },
    { timeout, interval: 200 },
  );

/** Requests still in the events outbox (their event not yet known to be published). */
const inOutbox = async (ids: string[]) => {
  const items = await Promise.all(ids.map((id) => readItem(stack, id)));
  return ids.filter((_, i) => items[i]?.eventShard !== undefined);
};

const deliveriesFor = (id: string) => receiver.deliveries().filter((d) => d.body?.detail?.id === id);

const shownFinal = async (id: string) => {
  const shown = await showRequest(stack, id);
  expect(['COMPLETED', 'REJECTED'], id).toContain(shown.life_cycle_state);
  return shown as CrmRequest & Record<string, unknown>;
};

const finalStates = (ids: string[]) =>
  vi.waitFor(
    async () => {
      const shown = await Promise.all(ids.map((id) => showRequest(stack, id)));
      const pending = shown.filter((r) => r.life_cycle_state === 'PENDING');
      if (pending.length > 0) throw new Error(`${pending.length} of ${ids.length} still PENDING`);
      return shown;
    },
    { timeout: 30_000, interval: 200 },
  );

/** Final states of every kind the pipeline gives: headend COMPLETED and REJECTED (through the queue), cancels. */
const produceFinalStates = async (counts: { completed: number; rejected: number; cancelled: number }) => {
  const ids: string[] = [];
  for (let i = 0; i < counts.completed; i += 1) {
    const card: DemoCard = i % 2 ? OTHER_KNOWN_CARD : KNOWN_CARD;
    ids.push((await createRequest(stack, card, { process_immediately: true })).id);
  }
  for (let i = 0; i < counts.rejected; i += 1) {
    ids.push((await createRequest(stack, UNKNOWN_CARD, { process_immediately: true })).id);
  }
  for (let i = 0; i < counts.cancelled; i += 1) {
    const { id } = await createRequest(stack, KNOWN_CARD, { scheduled_date: LATER() });
    const reply = await cancel(id);
    expect(reply.status, reply.text).toBe(200);
    ids.push(id);
  }
  await finalStates(ids);
  return ids;
};

// ---------------------------------------------------------------------------------------------------------------

describe('every final state publishes its event, in the shape of SPEC §3.1', () => {
  const healthy: string[] = [];

  it('COMPLETED by the headend: "Provisioning Request Completed"', async () => {
    const { id } = await createRequest(stack, KNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack, id, 'COMPLETED', 20_000);
    healthy.push(id);
    const [event] = (await eventsFor([id])).get(id) ?? [];
    expect(eventProblems(event as EventBridgeEvent, await shownFinal(id))).toEqual([]);
    expect(event?.detail.reference_number).toBe(done.reference_number);
    expect(event?.detail).not.toHaveProperty('request');
    expect(event?.detail).not.toHaveProperty('response');
    expect(deliveriesFor(id)[0]?.contentType).toMatch(/^application\/json/);
  });

  it('REJECTED by the headend (UNKNOWN_SMARTCARD): "Provisioning Request Rejected"', async () => {
    const { id } = await createRequest(stack, UNKNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack, id, 'REJECTED', 20_000);
    expect(done.error_code).toBe('UNKNOWN_SMARTCARD');
    healthy.push(id);
    const [event] = (await eventsFor([id])).get(id) ?? [];
    expect(eventProblems(event as EventBridgeEvent, await shownFinal(id))).toEqual([]);
    expect(event?.detail.error_code).toBe('UNKNOWN_SMARTCARD');
  });

  it('cancelled: "Provisioning Request Rejected" with error_code CANCELLED, by the canceller', async () => {
    const { id } = await createRequest(stack, OTHER_KNOWN_CARD, { scheduled_date: LATER() });
    const reply = await cancel(id);
    expect(reply.status, reply.text).toBe(200);
    healthy.push(id);
    const [event] = (await eventsFor([id])).get(id) ?? [];
    expect(eventProblems(event as EventBridgeEvent, await shownFinal(id))).toEqual([]);
    expect(event?.detail).toMatchObject({ life_cycle_state: 'REJECTED', error_code: 'CANCELLED' });
    expect(event?.detail.error_description).toMatch(/^Cancelled by /);
  });

  it('rejected at the retry deadline with the headend down (HEADEND_UNAVAILABLE)', async () => {
    stack.headend.setFaults({ down: true });
    const { id } = await createRequest(stack, KNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack, id, 'REJECTED', 30_000);
    stack.headend.setFaults({});
    expect(done.error_code).toBe('HEADEND_UNAVAILABLE');
    expect(stack.headend.executions(id)).toBe(0);
    healthy.push(id);
    const [event] = (await eventsFor([id])).get(id) ?? [];
    expect(eventProblems(event as EventBridgeEvent, await shownFinal(id))).toEqual([]);
    expect(event?.detail.error_code).toBe('HEADEND_UNAVAILABLE');
  });

  it('carries the organisation of the request: the other organisation’s cancel says CRMOTHER', async () => {
    const token = tokenIn(await login(stack, OTHER_LOGIN));
    const created = await postJson(
      stack,
      ROUTES.clearPin,
      clearPinBody(OTHER_ORGANISATION_CARD, { token, scheduled_date: LATER() }),
    );
    const id = String(created.body?.data.id);
    const reply = await postJson(stack, CANCEL, { token, provisioning_request_identifier: { id } });
    expect(reply.status, reply.text).toBe(200);
    const [event] = (await eventsFor([id])).get(id) ?? [];
    const { request: _request, response: _response, ...view } = reply.body?.data ?? {};
    expect(event?.detail).toEqual({ ...view, organisation: OTHER_ORGANISATION.name });
    expect(OTHER_ORGANISATION.name).not.toBe(DEMO_ORGANISATION.name);
  });

  it('with the receiver healthy: one event each, none left in the outbox, none for a request still PENDING', async () => {
    expect(healthy).toHaveLength(4);
    const pending = await createRequest(stack, KNOWN_CARD, { scheduled_date: LATER() });
    const byRequest = receiver.acceptedByRequest();
    for (const id of healthy) expect(byRequest.get(id), id).toHaveLength(1);
    expect(await inOutbox(healthy)).toEqual([]);
    expect(byRequest.has(pending.id)).toBe(false);
    for (const event of receiver.accepted()) expect(['COMPLETED', 'REJECTED']).toContain(event.detail.life_cycle_state);
  });
});

describe('a receiver that is briefly unavailable delays events but loses none', () => {
  /** Checks, once the receiver is back, that every request's event arrived; answers the duplicates seen. */
  const expectAllDelivered = async (ids: string[], label: string) => {
    const byRequest = await eventsFor(ids);
    for (const id of ids) {
      const events = byRequest.get(id) ?? [];
      const shown = await shownFinal(id);
      // Every copy that arrived says the same about the request (only the EventBridge event id differs).
      for (const event of events) expect(eventProblems(event, shown), id).toEqual([]);
    }
    await vi.waitFor(
      async () => {
        const left = await inOutbox(ids);
        if (left.length > 0) throw new Error(`${left.length} still in the outbox`);
      },
      { timeout: 10_000, interval: 200 },
    );
    const duplicates = ids.reduce((sum, id) => sum + (byRequest.get(id)?.length ?? 0) - 1, 0);
    console.info(`${label}: ${ids.length} final states, ${duplicates} duplicate event(s) after deduping on detail.id`);
    return duplicates;
  };

  it('503 for a while: every final state’s event arrives after it recovers, a dead writer’s included', async () => {
    receiver.setMode({ kind: 'refuse', status: 503 });
    const ids = await produceFinalStates({ completed: 3, rejected: 2, cancelled: 3 });

    // A worker that made its final write and died before publishing: only the outbox knows its event is owed.
    const { id: orphan } = await createRequest(stack, OTHER_KNOWN_CARD, { scheduled_date: LATER() });
    const claims = createRequestClaims(stack.document, stack.tableName);
    const claimId = newId();
    const claimed = await claims.claim(orphan, claimId, new Date(), new Date(Date.now() + 15_000));
    expect(claimed).toBeDefined();
    const completed = await claims.complete(claimed as NonNullable<typeof claimed>, claimId, {
      executedAt: new Date(),
      referenceNumber: 'REF-DEAD-WRITER',
      sequenceNumber: await claims.nextSequenceNumber(),
      processId: newId(),
      request: '{}',
      response: '{}',
    });
    expect(completed?.lifeCycleState).toBe('COMPLETED');
    ids.push(orphan);

    // While it refuses: nothing taken, every writer that lived tried, and everything is still owed.
    const byRequest = receiver.acceptedByRequest();
    expect(ids.filter((id) => byRequest.has(id))).toEqual([]);
    expect(ids.filter((id) => id !== orphan && deliveriesFor(id).length === 0)).toEqual([]);
    expect(deliveriesFor(orphan)).toEqual([]);
    expect(await inOutbox(ids)).toEqual(ids);

    receiver.setMode({ kind: 'accept' });
    await expectAllDelivered(ids, '503 outage');
  }, 90_000);

  it('connections refused, then a receiver that hangs: events arrive once it answers again', async () => {
    await receiver.goDown();
    const refusedIds = await produceFinalStates({ completed: 2, rejected: 1, cancelled: 2 });
    expect(refusedIds.filter((id) => receiver.acceptedByRequest().has(id))).toEqual([]);
    // Hanging: the publisher's own deadline ends each call; a cancel still answers (SPEC §2.5: a dependency that
    // hangs is a dependency that is down). Set before it listens again, so no sweep slips through in between.
    receiver.setMode({ kind: 'hang' });
    await receiver.comeBack();
    const hungIds = await produceFinalStates({ completed: 1, rejected: 0, cancelled: 2 });
    const ids = [...refusedIds, ...hungIds];
    expect(ids.filter((id) => receiver.acceptedByRequest().has(id))).toEqual([]);

    receiver.setMode({ kind: 'accept' });
    await expectAllDelivered(ids, 'refused + hung outage');
  }, 120_000);
});
