import '../helpers/quiet-powertools.ts';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { newId } from '../../functions/domain/identifiers.ts';
import { type SendToHeadendDependencies, sendToHeadend } from '../../functions/use-cases/send-to-headend.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  clearPinBody,
  DEMO_TOKEN,
  type DemoCard,
  KNOWN_CARD,
  OTHER_KNOWN_CARD,
  OTHER_LOGIN,
  OTHER_ORGANISATION_CARD,
  UNKNOWN_CARD,
} from '../helpers/demo.ts';
import { get, login, postJson, type Reply, ROUTES, tokenIn } from '../helpers/http.ts';
import { envelopeProblems } from '../helpers/oracle.ts';
import { readItem } from '../helpers/requests.ts';
import { seedShapeProblems } from '../helpers/seed.ts';
import { workerDependencies } from '../helpers/worker.ts';

/**
 * SPEC §2.6 over HTTP: every filter alone and combined, paging, order, fields_set, organisation scope and errors,
 * checked against an oracle computed from what the test itself created. The API reaches DynamoDB through a
 * recording proxy, so the test also sees from the wire that every filter is a Query (never a Scan) and that a
 * page's cost follows `offset + number_of_results`.
 */

/** SPEC §2.6 and §2.7, restated on purpose. */
const LIST = '/provisioning/provisioning_requests/list';
const CANCEL = '/provisioning/provisioning_requests/cancel';

/**
 * The operator zone of this stack: UTC+05:30 all year (no daylight saving), restated on purpose, so that the
 * operator-zone date forms and day edges of the filters are not UTC's.
 */
const ZONE = 'Asia/Kolkata';
const ZONE_OFFSET_MS = 330 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// A recording proxy between the API function and dynalite.

type WireCall = {
  /** The DynamoDB operation (`Query`, `Scan`, `BatchGetItem` …), from X-Amz-Target. */
  operation: string;
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB's JSON wire format is inspected freely
  input: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB's JSON wire format is inspected freely
  output?: Record<string, any>;
};

type Hold = { match: (call: WireCall) => boolean; taken: boolean; onHeld: () => void; gate: Promise<void> };

const jsonOf = (bytes: Buffer) => {
  try {
    return JSON.parse(bytes.toString('utf8') || '{}');
  } catch {
    return {};
  }
};

/** Forwards every DynamoDB call as it is, recording it; a test may hold one matching call until it releases it. */
const startDynamoRecorder = async () => {
  let target: URL | undefined;
  let calls: WireCall[] = [];
  const holds: Hold[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const call: WireCall = {
      operation:
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '',
      input: jsonOf(raw),
    };
    calls.push(call);
    const hold = holds.find((h) => !h.taken && h.match(call));
    if (hold) {
      hold.taken = true;
      hold.onHeld();
      await hold.gate;
    }
    const upstream = httpRequest(
      target ?? 'http://127.0.0.1:1',
      { method: req.method, path: req.url, headers: { ...req.headers, host: target?.host } },
      (reply) => {
        const out: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => out.push(chunk));
        reply.on('end', () => {
          const body = Buffer.concat(out);
          call.output = jsonOf(body);
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(raw);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTarget(url: string) {
      target = new URL(url);
    },
    /** The calls recorded since the last take, left in place. */
    peek: (): WireCall[] => [...calls],
    /** The calls recorded since the last take. */
    take(): WireCall[] {
      const taken = calls;
      calls = [];
      return taken;
    },
    /** Holds the next call that matches until `release`; `held` resolves once it has arrived. */
    holdNext(match: (call: WireCall) => boolean) {
      let release = () => {};
      let onHeld = () => {};
      const held = new Promise<void>((resolve) => {
        onHeld = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ match, taken: false, onHeld, gate });
      return { held, release };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// The stack, the worker's real parts, and the requests this file creates.

let recorder: Awaited<ReturnType<typeof startDynamoRecorder>>;
let stack: LocalStack;
let send: SendToHeadendDependencies;
let otherToken: string;

beforeAll(async () => {
  recorder = await startDynamoRecorder();
  stack = await startLocalStack({
    port: 0,
    processing: false,
    env: { AWS_ENDPOINT_URL_DYNAMODB: recorder.url, OPERATOR_TIME_ZONE: ZONE },
  });
  recorder.setTarget(stack.dynamoEndpoint);
  // The worker, called by the test, on the stack's own client (straight to dynalite, not through the recorder).
  send = workerDependencies(stack, stack.headend.url, { timeZone: ZONE });
  otherToken = tokenIn(await login(stack, OTHER_LOGIN));
  expect(otherToken).not.toBe('');
});

afterAll(async () => {
  await stack?.stop();
  await recorder?.stop();
});

type State = 'PENDING' | 'COMPLETED' | 'REJECTED';
type Priority = 'REGULAR' | 'EXPRESS';
type Created = { id: string; number: string; organisation: 'demo' | 'other'; card: DemoCard; priority: Priority };
/** A created request as it is now: its state, its creation instant (ms) and how show answers it. */
type Known = Created & {
  state: State;
  createdMs: number;
  // biome-ignore lint/suspicious/noExplicitAny: response data are inspected freely by the tests
  shown: Record<string, any>;
};

const created: Created[] = [];
const tokenOf = (organisation: Created['organisation']) => (organisation === 'demo' ? DEMO_TOKEN : otherToken);

/** Far enough ahead that nothing would process these requests even if a processing run were on. */
const LATER = new Date(Date.now() + 300 * 24 * 3600_000).toISOString().slice(0, 10);

/** Creates one request through the API (one at a time: creation order is then number order). */
const create = async (card: DemoCard, priority: Priority, organisation: Created['organisation'] = 'demo') => {
  const reply = await postJson(
    stack,
    ROUTES.clearPin,
    clearPinBody(card, { token: tokenOf(organisation), priority, scheduled_date: LATER }),
  );
  if (reply.status !== 200) throw new Error(`create answered ${reply.status}: ${reply.text}`);
  const request: Created = { id: reply.body?.data.id, number: reply.body?.data.number, organisation, card, priority };
  created.push(request);
  return request;
};

const job = (requestId: string) => ({ requestId, processId: newId(), receiveCount: 1 });

/** Sends it to the headend simulator: COMPLETED for a card it knows, REJECTED UNKNOWN_SMARTCARD otherwise. */
const runWorker = async (request: Created) => {
  const result = await sendToHeadend(send, job(request.id));
  expect(result.kind === 'done' && result.state).toBe(request.card.headendKnows ? 'COMPLETED' : 'REJECTED');
};

const cancel = (request: Pick<Created, 'id' | 'organisation'>) =>
  postJson(stack, CANCEL, {
    token: tokenOf(request.organisation),
    provisioning_request_identifier: { id: request.id },
  });

const cancelled = async (request: Created) => {
  const reply = await cancel(request);
  expect(reply.status, reply.text).toBe(200);
};

/** Every request created here, as the table and show have it now. */
const known = async (): Promise<Known[]> =>
  Promise.all(
    created.map(async (c) => {
      const item = await readItem(stack, c.id);
      const shown = await get(stack, ROUTES.show, {
        token: tokenOf(c.organisation),
        provisioning_request_identifier: `id=${c.id}`,
      });
      if (shown.status !== 200) throw new Error(`show ${c.id}: ${shown.text}`);
      return {
        ...c,
        state: item?.lifeCycleState as State,
        createdMs: Date.parse(String(item?.createdAt)),
        shown: shown.body?.data,
      };
    }),
  );

/** What a list must answer, written from SPEC §2.6 rather than from the implementation. */
type Expectation = {
  organisation?: Created['organisation'];
  state?: State;
  priority?: Priority;
  /** The subscription's id, whichever identifier the query used. */
  subscriptionId?: string;
  /** The installed item's id, whichever identifier the query used. */
  itemId?: string;
  /** Created at or after (ms). */
  fromMs?: number;
  /** Created before (ms, exclusive): the end of the inclusive created_date_to. */
  untilMs?: number;
};

/**
 * SPEC §2.6's order, restated on purpose: newest `created_date` first — the date as CRM.COM shows it, to the
 * second — and ties by number, highest first.
 */
const specOrder = (a: Known, b: Known) =>
  Math.floor(b.createdMs / 1000) - Math.floor(a.createdMs / 1000) || Number(b.number) - Number(a.number);

const expectedIds = (all: Known[], e: Expectation): string[] =>
  all
    .filter(
      (k) =>
        k.organisation === (e.organisation ?? 'demo') &&
        (e.state === undefined || k.state === e.state) &&
        (e.priority === undefined || k.priority === e.priority) &&
        (e.subscriptionId === undefined || k.card.subscriptionId === e.subscriptionId) &&
        (e.itemId === undefined || k.card.itemId === e.itemId) &&
        (e.fromMs === undefined || k.createdMs >= e.fromMs) &&
        (e.untilMs === undefined || k.createdMs < e.untilMs),
    )
    .sort(specOrder)
    .map((k) => k.id);

const list = async (query: Record<string, string>, token = DEMO_TOKEN): Promise<Reply> => {
  const reply = await get(stack, LIST, { token, ...query });
  expect(envelopeProblems(reply), reply.text).toEqual([]);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  return reply;
};

const idsOf = (reply: Reply): string[] => {
  expect(reply.status, reply.text).toBe(200);
  expect(Array.isArray(reply.body?.data), reply.text).toBe(true);
  return dataOf(reply).map((r) => r.id);
};

/** The requests of a 200 list answer. */
// biome-ignore lint/suspicious/noExplicitAny: response data are inspected freely by the tests
const dataOf = (reply: Reply): Record<string, any>[] => (Array.isArray(reply.body?.data) ? reply.body.data : []);

type Query = Record<string, string>;

const listIds = async (query: Record<string, string>, token = DEMO_TOKEN) => idsOf(await list(query, token));

const expectList = async (query: Record<string, string>, expectation: Expectation, token = DEMO_TOKEN) => {
  const all = await known();
  expect(await listIds(query, token)).toEqual(expectedIds(all, expectation));
};

const expectRefused = async (query: Record<string, string>, code: string, naming?: string) => {
  const reply = await list(query);
  expect({ status: reply.status, code: reply.body?.status.code }, reply.text).toEqual({ status: 400, code });
  if (naming !== undefined) expect(reply.body?.status.description).toContain(naming);
};

/** Waits until the clock is just past the start of a second, so the next requests share a new created_date. */
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 30);

/** `YYYY-MM-DDTHH:MM:SS` in the operator zone, from an instant (ms), computed from the zone's fixed offset. */
const localOf = (ms: number) => new Date(ms + ZONE_OFFSET_MS).toISOString().slice(0, 19);
/** The instant (ms) at which the operator zone's clock shows `YYYY-MM-DD[THH:MM:SS]`. */
const instantOfLocal = (text: string) => Date.parse(`${text.length === 10 ? `${text}T00:00:00` : text}+05:30`);
const isoZ = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const DAY_MS = 24 * 3600_000;

// ---------------------------------------------------------------------------------------------------------------
// The data set: three waves, each in a second of its own, over the three demo cards, both priorities and every
// final state (COMPLETED and REJECTED by the headend, REJECTED by a cancel); and two requests of the other
// organisation.

/** The first request of the middle wave: the pivot of the date filters. */
let pivot: Created;
let pivotSecondMs: number;

beforeAll(async () => {
  await nextSecond();
  await create(KNOWN_CARD, 'REGULAR');
  const d1 = await create(KNOWN_CARD, 'EXPRESS');
  const d2 = await create(UNKNOWN_CARD, 'REGULAR');
  await create(OTHER_KNOWN_CARD, 'EXPRESS');
  await nextSecond();
  const d4 = await create(OTHER_KNOWN_CARD, 'REGULAR');
  const d5 = await create(KNOWN_CARD, 'REGULAR');
  await create(UNKNOWN_CARD, 'EXPRESS');
  await create(KNOWN_CARD, 'EXPRESS');
  await nextSecond();
  await create(OTHER_KNOWN_CARD, 'REGULAR');
  const d9 = await create(UNKNOWN_CARD, 'EXPRESS');
  const d10 = await create(KNOWN_CARD, 'REGULAR');
  const d11 = await create(OTHER_KNOWN_CARD, 'EXPRESS');
  await create(OTHER_ORGANISATION_CARD, 'REGULAR', 'other');
  const o1 = await create(OTHER_ORGANISATION_CARD, 'EXPRESS', 'other');

  for (const r of [d1, d2, d4, d10, o1]) await runWorker(r);
  for (const r of [d5, d9, d11]) await cancelled(r);

  pivot = d4;
  const item = await readItem(stack, pivot.id);
  pivotSecondMs = Math.floor(Date.parse(String(item?.createdAt)) / 1000) * 1000;
  recorder.take();
}, 60_000);

// ---------------------------------------------------------------------------------------------------------------

describe('the data set (a check of the test itself)', () => {
  it('holds every state, priority and card of the demo organisation, and the other organisation’s requests', async () => {
    const all = await known();
    const demo = all.filter((k) => k.organisation === 'demo');
    expect(new Set(demo.map((k) => k.state))).toEqual(new Set(['PENDING', 'COMPLETED', 'REJECTED']));
    expect(new Set(demo.map((k) => k.priority))).toEqual(new Set(['REGULAR', 'EXPRESS']));
    expect(new Set(demo.map((k) => k.card.itemId)).size).toBe(3);
    expect(all.filter((k) => k.organisation === 'other')).toHaveLength(2);
    // The operator zone is what the test assumes: show writes created_date with UTC+05:30.
    for (const k of all) expect(k.shown.log_information.created_date).toBe(localOf(k.createdMs));
  });
});

describe('list without filters', () => {
  it('answers the organisation’s requests, newest first, ties by number highest first', async () => {
    await expectList({}, {});
  });

  it('answers each request exactly as show answers it (the shape of SPEC §2.3)', async () => {
    const reply = await list({});
    const all = await known();
    const byId = new Map(all.map((k) => [k.id, k]));
    for (const item of dataOf(reply)) {
      const k = byId.get(String(item.id));
      expect(item).toEqual(k?.shown);
      expect(seedShapeProblems(item, item.life_cycle_state === 'PENDING'), String(item.id)).toEqual([]);
    }
  });

  it('shows a cancelled request as REJECTED CANCELLED and a headend refusal as REJECTED UNKNOWN_SMARTCARD', async () => {
    const reply = await list({ life_cycle_state: 'REJECTED' });
    const codes = dataOf(reply).map((r) => r.error_code);
    expect(new Set(codes)).toEqual(new Set(['CANCELLED', 'UNKNOWN_SMARTCARD']));
  });
});

describe('list with one filter', () => {
  it.each(['PENDING', 'COMPLETED', 'REJECTED'] as const)('life_cycle_state=%s', async (state) => {
    await expectList({ life_cycle_state: state }, { state });
  });

  it.each(['REGULAR', 'EXPRESS'] as const)('priority=%s', async (priority) => {
    await expectList({ priority }, { priority });
  });

  it.each([KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD])(
    'subscription_identifier by id and by number ($subscription)',
    async (card) => {
      await expectList(
        { subscription_identifier: `id=${card.subscriptionId}` },
        { subscriptionId: card.subscriptionId },
      );
      await expectList(
        { subscription_identifier: `number=${card.subscription}` },
        { subscriptionId: card.subscriptionId },
      );
    },
  );

  it.each([KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD])(
    'smartcard_identifier by id and by serial_number ($serial)',
    async (card) => {
      await expectList({ smartcard_identifier: `id=${card.itemId}` }, { itemId: card.itemId });
      await expectList({ smartcard_identifier: `serial_number=${card.serial}` }, { itemId: card.itemId });
    },
  );

  it('smartcard_identifier by alternative_code', async () => {
    expect(KNOWN_CARD.alternativeCode).toBeDefined();
    await expectList(
      { smartcard_identifier: `alternative_code=${KNOWN_CARD.alternativeCode}` },
      { itemId: KNOWN_CARD.itemId },
    );
  });
});

describe('list with filters combined', () => {
  it.each([
    ['PENDING', 'REGULAR'],
    ['PENDING', 'EXPRESS'],
    ['COMPLETED', 'REGULAR'],
    ['COMPLETED', 'EXPRESS'],
    ['REJECTED', 'REGULAR'],
    ['REJECTED', 'EXPRESS'],
  ] as const)('life_cycle_state=%s and priority=%s', async (state, priority) => {
    await expectList({ life_cycle_state: state, priority }, { state, priority });
  });

  it.each(['PENDING', 'COMPLETED', 'REJECTED'] as const)('a subscription and life_cycle_state=%s', async (state) => {
    for (const card of [KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD]) {
      await expectList(
        { subscription_identifier: `number=${card.subscription}`, life_cycle_state: state },
        { subscriptionId: card.subscriptionId, state },
      );
    }
  });

  it.each(['REGULAR', 'EXPRESS'] as const)('a smartcard and priority=%s', async (priority) => {
    for (const card of [KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD]) {
      await expectList(
        { smartcard_identifier: `serial_number=${card.serial}`, priority },
        { itemId: card.itemId, priority },
      );
    }
  });

  it('a subscription and its own smartcard: that card’s requests', async () => {
    await expectList(
      { subscription_identifier: `number=${KNOWN_CARD.subscription}`, smartcard_identifier: `id=${KNOWN_CARD.itemId}` },
      { subscriptionId: KNOWN_CARD.subscriptionId, itemId: KNOWN_CARD.itemId },
    );
  });

  it('a subscription and a smartcard of another subscription: an empty list', async () => {
    expect(
      await listIds({
        subscription_identifier: `number=${KNOWN_CARD.subscription}`,
        smartcard_identifier: `serial_number=${OTHER_KNOWN_CARD.serial}`,
      }),
    ).toEqual([]);
  });

  it('every filter at once', async () => {
    for (const state of ['PENDING', 'COMPLETED', 'REJECTED'] as const) {
      for (const priority of ['REGULAR', 'EXPRESS'] as const) {
        await expectList(
          {
            life_cycle_state: state,
            priority,
            subscription_identifier: `id=${KNOWN_CARD.subscriptionId}`,
            smartcard_identifier: `alternative_code=${KNOWN_CARD.alternativeCode}`,
            created_date_from: localOf(pivotSecondMs - 10_000),
            // The operator zone's today, as the oracle reads it (UTC's date differs for 5½ hours of each day).
            created_date_to: localOf(Date.now()).slice(0, 10),
          },
          {
            state,
            priority,
            subscriptionId: KNOWN_CARD.subscriptionId,
            itemId: KNOWN_CARD.itemId,
            fromMs: pivotSecondMs - 10_000,
            untilMs: instantOfLocal(localOf(Date.now()).slice(0, 10)) + DAY_MS,
          },
        );
      }
    }
  });
});

describe('list: an unknown subscription or smartcard is an empty list, not an error', () => {
  it.each([
    { subscription_identifier: 'number=S99999' },
    { subscription_identifier: `id=${'0'.repeat(32)}` },
    { subscription_identifier: `id=${KNOWN_CARD.subscriptionId.toLowerCase()}` },
    { smartcard_identifier: 'serial_number=nosuchcard' },
    { smartcard_identifier: `id=${'F'.repeat(32)}` },
    { smartcard_identifier: 'alternative_code=NOPE' },
    // An installed item that is not a Nagravision smartcard has no clear-PINs: nothing to list either.
    { smartcard_identifier: 'serial_number=stb10000001' },
    { smartcard_identifier: 'serial_number=cnx30000001' },
    { subscription_identifier: 'number=S99999', life_cycle_state: 'PENDING', priority: 'EXPRESS' },
  ] as Query[])('%j', async (query) => {
    expect(await listIds(query)).toEqual([]);
  });
});

describe('list: creation-date filters (inclusive; the formats of scheduled_date, in the operator zone)', () => {
  const pivotLocal = () => localOf(pivotSecondMs);
  const pivotDay = () => pivotLocal().slice(0, 10);

  it('created_date_from in the operator zone’s form includes the whole of its second', async () => {
    await expectList({ created_date_from: pivotLocal() }, { fromMs: pivotSecondMs });
  });

  it('created_date_to in the operator zone’s form covers the whole of its second', async () => {
    await expectList({ created_date_to: pivotLocal() }, { untilMs: pivotSecondMs + 1000 });
  });

  it('from and to the same second: the requests created in that second', async () => {
    const query = { created_date_from: pivotLocal(), created_date_to: pivotLocal() };
    const ids = await listIds(query);
    expect(ids).toContain(pivot.id);
    await expectList(query, { fromMs: pivotSecondMs, untilMs: pivotSecondMs + 1000 });
  });

  it('ISO 8601 with Z and with offsets (with and without a colon) mean the same instants', async () => {
    await expectList({ created_date_from: isoZ(pivotSecondMs) }, { fromMs: pivotSecondMs });
    await expectList({ created_date_to: isoZ(pivotSecondMs) }, { untilMs: pivotSecondMs + 1000 });
    const plusTwo = `${new Date(pivotSecondMs + 2 * 3600_000).toISOString().slice(0, 19)}+02:00`;
    await expectList({ created_date_to: plusTwo }, { untilMs: pivotSecondMs + 1000 });
    const minusThreeThirty = `${new Date(pivotSecondMs - 210 * 60_000).toISOString().slice(0, 19)}-0330`;
    await expectList({ created_date_from: minusThreeThirty }, { fromMs: pivotSecondMs });
  });

  it('a date-only created_date_from starts at midnight of that day in the operator zone', async () => {
    await expectList({ created_date_from: pivotDay() }, { fromMs: instantOfLocal(pivotDay()) });
  });

  it('a date-only created_date_to covers its whole day in the operator zone', async () => {
    await expectList({ created_date_to: pivotDay() }, { untilMs: instantOfLocal(pivotDay()) + DAY_MS });
    const ids = await listIds({ created_date_from: pivotDay(), created_date_to: pivotDay() });
    expect(ids).toContain(pivot.id);
  });

  it('the day before: nothing created after it; the day after: nothing created since', async () => {
    const dayBefore = new Date(instantOfLocal(pivotDay()) - DAY_MS + ZONE_OFFSET_MS).toISOString().slice(0, 10);
    const dayAfter = new Date(instantOfLocal(pivotDay()) + DAY_MS + ZONE_OFFSET_MS).toISOString().slice(0, 10);
    await expectList({ created_date_to: dayBefore }, { untilMs: instantOfLocal(dayBefore) + DAY_MS });
    await expectList({ created_date_from: dayAfter }, { fromMs: instantOfLocal(dayAfter) });
  });

  it('a date range combined with a subscription, a smartcard and a state', async () => {
    await expectList(
      { subscription_identifier: `number=${KNOWN_CARD.subscription}`, created_date_to: pivotLocal() },
      { subscriptionId: KNOWN_CARD.subscriptionId, untilMs: pivotSecondMs + 1000 },
    );
    await expectList(
      { smartcard_identifier: `serial_number=${OTHER_KNOWN_CARD.serial}`, created_date_from: pivotLocal() },
      { itemId: OTHER_KNOWN_CARD.itemId, fromMs: pivotSecondMs },
    );
    await expectList(
      { life_cycle_state: 'PENDING', created_date_from: pivotLocal(), created_date_to: localOf(pivotSecondMs + 1000) },
      { state: 'PENDING', fromMs: pivotSecondMs, untilMs: pivotSecondMs + 2000 },
    );
  });

  it('from 1970-01-01 (the earliest date accepted) lists everything', async () => {
    await expectList({ created_date_from: '1970-01-01' }, {});
  });

  it('a far upper bound is still a bound that includes everything (date-only)', async () => {
    await expectList({ created_date_to: '9999-12-31' }, {});
  });

  // A client's "no upper bound" is often the last second of year 9999; it is a valid date in every form.
  it.each(['9999-12-31T23:59:59', '9999-12-31T23:59:59Z'])(
    'a far upper bound with a time (%s) includes everything',
    async (to) => {
      await expectList({ created_date_to: to }, {});
    },
  );

  it('from and to the last second of year 9999: an empty list (nothing was created then), never a 500', async () => {
    const reply = await list({ created_date_from: '9999-12-31T23:59:59Z', created_date_to: '9999-12-31T23:59:59Z' });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body?.data).toEqual([]);
  });

  it('a range whose from is after its to is an empty list (or INVALID_DATE), never a 500', async () => {
    const reply = await list({
      created_date_from: localOf(pivotSecondMs + 2000),
      created_date_to: pivotLocal(),
    });
    expect([200, 400], reply.text).toContain(reply.status);
    if (reply.status === 200) expect(reply.body?.data).toEqual([]);
    else expect(reply.body?.status.code).toBe('INVALID_DATE');
  });

  it('a from one second after the to is an empty list', async () => {
    const reply = await list({ created_date_from: localOf(pivotSecondMs + 1000), created_date_to: pivotLocal() });
    expect([200, 400], reply.text).toContain(reply.status);
    if (reply.status === 200) expect(reply.body?.data).toEqual([]);
  });
});

describe('list paging', () => {
  it('number_of_results=1 answers the newest', async () => {
    const all = expectedIds(await known(), {});
    expect(await listIds({ number_of_results: '1' })).toEqual(all.slice(0, 1));
  });

  it('number_of_results with offset answers that slice of the full list', async () => {
    const all = expectedIds(await known(), {});
    expect(await listIds({ number_of_results: '3', offset: '4' })).toEqual(all.slice(4, 7));
    expect(await listIds({ number_of_results: '50', offset: '1' })).toEqual(all.slice(1));
  });

  it('pages of 2 reproduce the full list in order, without duplicates or gaps (no filter, and PENDING only)', async () => {
    const all = await known();
    for (const [query, expectation] of [
      [{}, {}],
      [{ life_cycle_state: 'PENDING' }, { state: 'PENDING' }],
      [{ subscription_identifier: `number=${KNOWN_CARD.subscription}` }, { subscriptionId: KNOWN_CARD.subscriptionId }],
    ] as [Record<string, string>, Expectation][]) {
      const wanted = expectedIds(all, expectation);
      const pages: string[] = [];
      // Bounded: one page more than the list needs, which must be empty.
      for (let offset = 0; offset <= wanted.length + 2; offset += 2) {
        const page = await listIds({ ...query, number_of_results: '2', offset: String(offset) });
        expect(page.length).toBeLessThanOrEqual(2);
        pages.push(...page);
        if (page.length < 2) break;
      }
      expect(pages, JSON.stringify(query)).toEqual(wanted);
    }
  });

  it('an offset at or past the end answers an empty list (200)', async () => {
    const count = expectedIds(await known(), {}).length;
    expect(await listIds({ offset: String(count) })).toEqual([]);
    expect(await listIds({ offset: String(count + 5) })).toEqual([]);
    expect(await listIds({ offset: String(count - 1) })).toHaveLength(1);
  });

  it('offset 10000 is allowed (empty here), 10001 is INVALID_VALUE', async () => {
    expect(await listIds({ offset: '10000' })).toEqual([]);
    expect(await listIds({ offset: '10000', number_of_results: '50', life_cycle_state: 'PENDING' })).toEqual([]);
    await expectRefused({ offset: '10001' }, 'INVALID_VALUE', 'offset');
  });

  it.each(['0', '51', '-1', 'x', '1.5', ''])('number_of_results=%j is INVALID_VALUE', async (n) => {
    await expectRefused({ number_of_results: n }, 'INVALID_VALUE', 'number_of_results');
  });

  it.each(['-1', 'x', '1.5'])('offset=%j is INVALID_VALUE', async (n) => {
    await expectRefused({ offset: n }, 'INVALID_VALUE', 'offset');
  });
});

describe('list: fields_set', () => {
  it('narrows each request to the fields named, in CRM.COM’s order, with the full answer’s values', async () => {
    const full = dataOf(await list({}));
    const narrowed = dataOf(await list({ fields_set: 'number,id, life_cycle_state' }));
    expect(narrowed).toHaveLength(full.length);
    narrowed.forEach((item, i) => {
      expect(Object.keys(item)).toEqual(['number', 'life_cycle_state', 'id']);
      expect(item).toEqual({ number: full[i]?.number, life_cycle_state: full[i]?.life_cycle_state, id: full[i]?.id });
    });
  });

  it('keeps a nested field whole', async () => {
    const items = dataOf(await list({ fields_set: 'log_information', number_of_results: '2' }));
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(Object.keys(item)).toEqual(['log_information']);
      expect(Object.keys(item.log_information as object).sort()).toEqual([
        'created_by_unit',
        'created_by_user',
        'created_date',
        'updated_by_unit',
        'updated_by_user',
        'updated_date',
      ]);
    }
  });

  it('refuses a field the request does not have as INVALID_VALUE naming it', async () => {
    await expectRefused({ fields_set: 'id,password' }, 'INVALID_VALUE', 'password');
  });
});

describe('list: the organisation of the token', () => {
  it('the other organisation lists only its own requests, newest first', async () => {
    await expectList({}, { organisation: 'other' }, otherToken);
    await expectList({ life_cycle_state: 'COMPLETED' }, { organisation: 'other', state: 'COMPLETED' }, otherToken);
    await expectList({ priority: 'REGULAR' }, { organisation: 'other', priority: 'REGULAR' }, otherToken);
  });

  it('the demo organisation never sees the other’s requests, under any filter', async () => {
    const others = new Set(created.filter((c) => c.organisation === 'other').map((c) => c.id));
    for (const query of [
      {},
      { life_cycle_state: 'PENDING' },
      { life_cycle_state: 'COMPLETED' },
      { priority: 'EXPRESS' },
    ] as Query[]) {
      const ids = await listIds(query);
      expect(ids.filter((id) => others.has(id))).toEqual([]);
    }
  });

  it('another organisation’s subscription or smartcard in a filter is an empty list, as if it did not exist', async () => {
    const card = OTHER_ORGANISATION_CARD;
    for (const query of [
      { subscription_identifier: `number=${card.subscription}` },
      { subscription_identifier: `id=${card.subscriptionId}` },
      { smartcard_identifier: `serial_number=${card.serial}` },
      { smartcard_identifier: `id=${card.itemId}` },
    ] as Query[]) {
      expect(await listIds(query), JSON.stringify(query)).toEqual([]);
    }
    for (const query of [
      { subscription_identifier: `number=${KNOWN_CARD.subscription}` },
      { smartcard_identifier: `id=${KNOWN_CARD.itemId}` },
    ] as Query[]) {
      expect(await listIds(query, otherToken), JSON.stringify(query)).toEqual([]);
    }
  });
});

describe('list: errors, in SPEC §2.5 order', () => {
  it('a missing, malformed or released token is INVALID_TOKEN, before any field is judged', async () => {
    const missing = await get(stack, LIST, {});
    expect({ status: missing.status, code: missing.body?.status.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    for (const token of ['nope', '0'.repeat(32)]) {
      const reply = await list({ colour: 'red', number_of_results: '0' }, token);
      expect({ status: reply.status, code: reply.body?.status.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    }
    const token = tokenIn(await login(stack));
    expect((await list({}, token)).status).toBe(200);
    await postJson(stack, ROUTES.release, { token });
    const released = await list({}, token);
    expect({ status: released.status, code: released.body?.status.code }).toEqual({
      status: 401,
      code: 'INVALID_TOKEN',
    });
  });

  it('UNKNOWN_PARAMETER names the parameter (a typo is not ignored)', async () => {
    await expectRefused({ life_cycle_status: 'PENDING' }, 'UNKNOWN_PARAMETER', 'life_cycle_status');
    await expectRefused(
      { provisioning_request_identifier: 'number=1' },
      'UNKNOWN_PARAMETER',
      'provisioning_request_identifier',
    );
  });

  it('UNKNOWN_PARAMETER before INVALID_IDENTIFIER before INVALID_DATE before INVALID_VALUE', async () => {
    const wrong: Record<string, string> = {
      colour: 'red',
      smartcard_identifier: 'smrt20000054',
      created_date_to: '2026-02-30',
      life_cycle_state: 'CANCELLED',
    };
    await expectRefused(wrong, 'UNKNOWN_PARAMETER', 'colour');
    delete wrong.colour;
    await expectRefused(wrong, 'INVALID_IDENTIFIER', 'smartcard_identifier');
    delete wrong.smartcard_identifier;
    await expectRefused(wrong, 'INVALID_DATE', 'created_date_to');
    delete wrong.created_date_to;
    await expectRefused(wrong, 'INVALID_VALUE', 'life_cycle_state');
  });

  it.each([
    [{ subscription_identifier: 'S60507' }, 'INVALID_IDENTIFIER'],
    [{ subscription_identifier: 'serial_number=smrt20000054' }, 'INVALID_IDENTIFIER'],
    [{ smartcard_identifier: 'number=S60507' }, 'INVALID_IDENTIFIER'],
    [{ smartcard_identifier: 'id=' }, 'INVALID_IDENTIFIER'],
    [{ created_date_from: 'yesterday' }, 'INVALID_DATE'],
    [{ created_date_from: '2026-01-01T24:00:00' }, 'INVALID_DATE'],
    [{ created_date_to: '1969-12-31' }, 'INVALID_DATE'],
    [{ priority: 'LOW' }, 'INVALID_VALUE'],
    [{ life_cycle_state: 'pending' }, 'INVALID_VALUE'],
  ])('%j is %s', async (query, code) => {
    await expectRefused(query, code, Object.keys(query)[0]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('list from the wire: a Query on an index for every filter, never a Scan; cost by page, not by table', () => {
  const queriesOf = async (query: Record<string, string>) => {
    recorder.take();
    await listIds(query);
    const calls = recorder.take();
    expect(
      calls.filter((c) => c.operation === 'Scan'),
      'a Scan',
    ).toEqual([]);
    return calls.filter((c) => c.operation === 'Query');
  };

  it.each([
    [{}, 'by-creation', 2],
    [{ life_cycle_state: 'PENDING' }, 'list', 2],
    [{ priority: 'EXPRESS' }, 'by-creation', 1],
    [{ life_cycle_state: 'COMPLETED', priority: 'REGULAR' }, 'list', 1],
    [{ subscription_identifier: `number=${KNOWN_CARD.subscription}` }, 'by-subscription', 1],
    [{ subscription_identifier: `id=${KNOWN_CARD.subscriptionId}`, life_cycle_state: 'PENDING' }, 'by-subscription', 1],
    [{ smartcard_identifier: `serial_number=${KNOWN_CARD.serial}` }, 'by-smartcard', 1],
    [
      { smartcard_identifier: `id=${KNOWN_CARD.itemId}`, subscription_identifier: `number=${KNOWN_CARD.subscription}` },
      'by-smartcard',
      1,
    ],
    [{ created_date_from: '2000-01-01', created_date_to: '9999-12-31' }, 'by-creation', 2],
  ] as [Record<string, string>, string, number][])(
    '%j: Query on %s, %i partition(s)',
    async (query, index, partitions) => {
      const queries = await queriesOf(query);
      expect(queries.map((q) => q.input.IndexName)).toEqual(Array(partitions).fill(index));
      const partitionKeys = queries.map((q) =>
        JSON.stringify(Object.values(q.input.ExpressionAttributeValues ?? {})[0]),
      );
      expect(new Set(partitionKeys).size).toBe(partitions);
    },
  );

  it('a page of 1 reads at most one index entry per partition, however many requests the organisation has', async () => {
    expect(expectedIds(await known(), {}).length).toBeGreaterThan(10);
    const queries = await queriesOf({ number_of_results: '1' });
    for (const q of queries) expect(q.input.Limit).toBeLessThanOrEqual(1);
    const scanned = queries.reduce((sum, q) => sum + Number(q.output?.ScannedCount ?? 0), 0);
    expect(scanned).toBeLessThanOrEqual(queries.length);
  });

  it('a page of 2 at offset 3 reads at most offset + number_of_results entries per partition', async () => {
    const queries = await queriesOf({ number_of_results: '2', offset: '3' });
    for (const q of queries) {
      expect(q.input.Limit).toBeLessThanOrEqual(5);
      expect(Number(q.output?.ScannedCount ?? 0)).toBeLessThanOrEqual(5);
    }
  });

  it('an unknown subscription costs no index read at all', async () => {
    expect(await queriesOf({ subscription_identifier: 'number=S99999' })).toEqual([]);
  });
});

describe('list while requests change state', () => {
  /** The one index Query of a list call for this partition. */
  const partitionQuery = (index: string, partition: string) => (call: WireCall) =>
    call.operation === 'Query' &&
    call.input.IndexName === index &&
    JSON.stringify(call.input.ExpressionAttributeValues ?? {}).includes(`"${partition}"`);

  /**
   * Lists with `query` while `request` becomes COMPLETED between the reads of the partitions: the read of
   * `heldPartition` is held at the proxy until the `others` have answered and the request is completed.
   */
  const listAcrossACompletion = async (
    request: Created,
    query: Record<string, string>,
    [index, heldPartition, others]: [string, string, number],
  ) => {
    recorder.take();
    const hold = recorder.holdNext(partitionQuery(index, heldPartition));
    const listing = list(query);
    await hold.held;
    // Every other partition's read has answered before the request moves (bounded wait).
    await vi.waitFor(
      () => {
        const answered = recorder
          .peek()
          .filter((c) => c.operation === 'Query' && c.input.IndexName === index && c.output !== undefined);
        if (answered.length < others) throw new Error(`${answered.length} of ${others} other partitions answered`);
      },
      { timeout: 3_000, interval: 5 },
    );
    const claimId = newId();
    const claimed = await send.claims.claim(request.id, claimId, new Date(), new Date(Date.now() + 15_000));
    expect(claimed?.id).toBe(request.id);
    await send.claims.complete(claimed as NonNullable<typeof claimed>, claimId, {
      executedAt: new Date(),
      referenceNumber: 'REF-LIST-RACE',
      sequenceNumber: await send.claims.nextSequenceNumber(),
      processId: newId(),
      request: '{}',
      response: '{}',
    });
    hold.release();
    return idsOf(await listing);
  };

  it.each([
    ['its own partition', 'CRMDEMO#REGULAR'],
    ['the other partition', 'CRMDEMO#EXPRESS'],
  ])(
    'without a state filter, a request that completes while %s is read is listed once, as it now is',
    async (_, held) => {
      const request = await create(KNOWN_CARD, 'REGULAR');
      const ids = await listAcrossACompletion(request, {}, ['by-creation', held, 1]);
      expect(ids.filter((id) => id === request.id)).toHaveLength(1);
      expect(new Set(ids).size).toBe(ids.length);
      const shown = dataOf(await list({})).find((r) => r.id === request.id);
      expect(shown?.life_cycle_state).toBe('COMPLETED');
    },
  );

  it('with a state filter, a request that leaves the state while the list reads is never listed twice', async () => {
    const request = await create(KNOWN_CARD, 'REGULAR');
    const ids = await listAcrossACompletion(request, { life_cycle_state: 'PENDING' }, [
      'list',
      'CRMDEMO#PENDING#REGULAR',
      1,
    ]);
    // Read after it completed: it no longer matches the filter, so it is not listed as PENDING.
    expect(ids).not.toContain(request.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('list: ties on created_date (same second) are ordered by number, highest first', () => {
  /** Moves a request's creation instant, with its place in the indexes' sort key, as the create would have written it. */
  const setCreatedAt = (request: Created, createdAt: string) =>
    stack.document.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `REQ#${request.id}` },
        UpdateExpression: 'SET createdAt = :at, listSort = :sort',
        ExpressionAttributeValues: { ':at': createdAt, ':sort': keys.listSort(createdAt, request.number) },
      }),
    );
  let equal: Created[];
  let sameSecond: Created[];

  beforeAll(async () => {
    equal = [await create(KNOWN_CARD, 'REGULAR'), await create(OTHER_KNOWN_CARD, 'EXPRESS')];
    sameSecond = [await create(KNOWN_CARD, 'EXPRESS'), await create(UNKNOWN_CARD, 'REGULAR')];
    // The same instant, to the millisecond.
    for (const r of equal) await setCreatedAt(r, '2001-02-03T04:05:06.000Z');
    // The same second, the lower number created later in it: what two concurrent creates give, since a create takes
    // its creation instant when it starts and its number from the sequence a moment later.
    await setCreatedAt(sameSecond[0] as Created, '2001-02-03T04:05:07.900Z');
    await setCreatedAt(sameSecond[1] as Created, '2001-02-03T04:05:07.100Z');
  });

  afterAll(async () => {
    // Back in number order within their second, so that later tests of the whole list do not trip on this case.
    await setCreatedAt(sameSecond[0] as Created, '2001-02-03T04:05:07.100Z');
    await setCreatedAt(sameSecond[1] as Created, '2001-02-03T04:05:07.900Z');
  });

  it('created at the same instant: the higher number first', async () => {
    const second = localOf(Date.parse('2001-02-03T04:05:06Z'));
    const ids = await listIds({ created_date_from: second, created_date_to: second });
    expect(ids).toEqual([equal[1]?.id, equal[0]?.id]);
  });

  it('created in the same second (same created_date), the higher number first whatever the milliseconds', async () => {
    const second = localOf(Date.parse('2001-02-03T04:05:07Z'));
    const ids = await listIds({ created_date_from: second, created_date_to: second });
    const shown = dataOf(await list({ created_date_from: second, created_date_to: second }));
    // The two answers show the same created_date: for a client they are tied.
    expect(new Set(shown.map((r) => r.log_information.created_date)).size).toBe(1);
    expect(ids).toEqual([sameSecond[1]?.id, sameSecond[0]?.id]);
  });
});

describe('list: 50 results', () => {
  beforeAll(async () => {
    // Sequential creates: creation order is number order, so this adds no tie of the kind above.
    for (let i = 0; i < 45; i += 1) await create(i % 2 ? OTHER_KNOWN_CARD : KNOWN_CARD, i % 3 ? 'REGULAR' : 'EXPRESS');
  }, 60_000);

  it('answers 50 by default and number_of_results=50 explicitly, the newest 50', async () => {
    const all = expectedIds(await known(), {});
    expect(all.length).toBeGreaterThan(55);
    expect(await listIds({})).toEqual(all.slice(0, 50));
    expect(await listIds({ number_of_results: '50' })).toEqual(all.slice(0, 50));
  });

  it('the second page of 50 answers the rest', async () => {
    const all = expectedIds(await known(), {});
    expect(await listIds({ number_of_results: '50', offset: '50' })).toEqual(all.slice(50, 100));
  });

  it('pages of 7 over a filter reproduce it in order', async () => {
    const all = await known();
    const wanted = expectedIds(all, { state: 'PENDING', priority: 'REGULAR' });
    expect(wanted.length).toBeGreaterThan(20);
    const pages: string[] = [];
    for (let offset = 0; offset <= wanted.length; offset += 7) {
      pages.push(
        ...(await listIds({
          life_cycle_state: 'PENDING',
          priority: 'REGULAR',
          number_of_results: '7',
          offset: String(offset),
        })),
      );
    }
    expect(pages).toEqual(wanted);
  });
});
