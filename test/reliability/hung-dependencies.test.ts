import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_LOGIN, DEMO_TOKEN, KNOWN_CARD, OTHER_KNOWN_CARD } from '../helpers/demo.ts';
import {
  createClearPin,
  get,
  idIn,
  login,
  postJson,
  type Reply,
  ROUTES,
  show,
  showRequest,
  tokenIn,
} from '../helpers/http.ts';
import { envelopeProblems, expectUnavailable } from '../helpers/oracle.ts';
import { queueCounts } from '../helpers/queue.ts';
import { untilApiReads } from '../helpers/recovery.ts';
import { type ReplyTrap, startReplyTrap } from '../helpers/reply-trap.ts';
import {
  type Created,
  readItem,
  scheduledDateAt,
  settledProblems,
  storedRequests,
  waitUntilFinal,
} from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * SPEC §2.5: "A dependency that hangs is a dependency that is down". The functions reach DynamoDB and SQS through
 * fault proxies whose black hole accepts connections and never answers (a dropped route, a hung peer), so only the
 * functions' own deadlines can end a call. Every answer must come from the handler (503 SERVICE_UNAVAILABLE with
 * Retry-After, or 200 when the request is written) and never from the front's 10 s function timeout (502, as API
 * Gateway would answer). The test reads the table and the queue directly, past the proxies.
 *
 * Durations are printed for docs/reliability.md, never asserted: the assertion is the absence of the front's 502.
 * FAST_PROCESSING_ENV (through faultProxies) gives a 1 s grace before the processing run takes over a
 * process-immediately request whose queue send failed.
 */
const stack = useLocalStack({ faultProxies: true, processingIntervalMs: 500 });
const dynamo = () => stack().dynamoProxy;
const sqs = () => stack().sqsProxy;
const LIST = '/provisioning/provisioning_requests/list';
const CANCEL = '/provisioning/provisioning_requests/cancel';

/** Every request the test got a 200 for, checked at the end: final, executed exactly once. */
const accepted: Created[] = [];

const timed = async (what: string, call: () => Promise<Reply>) => {
  const started = performance.now();
  const reply = await call();
  return { what, reply, ms: Math.round(performance.now() - started) };
};

const report = (title: string, rows: { what: string; reply: Reply; ms: number }[]) => {
  console.log(
    `${title}\n${rows.map((r) => `  ${r.what.padEnd(44)} ${r.reply.status} ${r.reply.body?.status.code} ${r.ms} ms`).join('\n')}`,
  );
};

/** Every item of the table (requests, sessions, counters, login attempts, idempotency records), as text by key. */
const tableSnapshot = async () => {
  const items = new Map<string, string>();
  for await (const page of paginateScan({ client: stack().document }, { TableName: stack().tableName })) {
    for (const item of page.Items ?? []) items.set(String(item.pk), JSON.stringify(item, Object.keys(item).sort()));
  }
  return items;
};

const changedKeys = (before: Map<string, string>, after: Map<string, string>) =>
  [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));

const requestIds = async () => new Set((await storedRequests(stack())).keys());
const addedSince = async (before: Set<string>) => [...(await requestIds())].filter((id) => !before.has(id));

const untilHealthy = () => untilApiReads(stack());

const tomorrow = () => scheduledDateAt(new Date(Date.now() + 86_400_000));

describe('DynamoDB hangs (accepts connections, never answers)', { timeout: 120_000 }, () => {
  it('answers every route 503 SERVICE_UNAVAILABLE with Retry-After from the handler, and writes nothing', async () => {
    // Set up while healthy: a token of our own to release, and a request far in the future to show and cancel
    // (the processing run leaves it alone).
    const fresh = tokenIn(await login(stack()));
    expect(fresh).not.toBe('');
    const target = (await createClearPin(stack(), KNOWN_CARD, { scheduled_date: tomorrow() })).body?.data;
    expect(target?.life_cycle_state).toBe('PENDING');

    dynamo().blackHole();
    // Whatever a function had already sent before the black hole has landed by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await tableSnapshot();
    const calls: [string, () => Promise<Reply>][] = [
      ['login', () => login(stack())],
      ['release', () => postJson(stack(), ROUTES.release, { token: fresh })],
      ['clear_pin', () => createClearPin(stack(), KNOWN_CARD)],
      ['clear_pin process_immediately', () => createClearPin(stack(), KNOWN_CARD, { process_immediately: true })],
      ['clear_pin + Idempotency-Key', () => createClearPin(stack(), KNOWN_CARD, {}, { 'Idempotency-Key': 'hung-1' })],
      [
        'clear_pin process_immediately + Idempotency-Key',
        () => createClearPin(stack(), KNOWN_CARD, { process_immediately: true }, { 'Idempotency-Key': 'hung-2' }),
      ],
      ['show id=', () => show(stack(), `id=${target.id}`)],
      ['show number=', () => show(stack(), `number=${target.number}`)],
      ['list', () => get(stack(), LIST, { token: DEMO_TOKEN })],
      ['list life_cycle_state=PENDING', () => get(stack(), LIST, { token: DEMO_TOKEN, life_cycle_state: 'PENDING' })],
      [
        'cancel',
        () => postJson(stack(), CANCEL, { token: DEMO_TOKEN, provisioning_request_identifier: { id: target.id } }),
      ],
    ];
    // One at a time, so each duration is that route's alone (what one client waits).
    const rows = [];
    for (const [what, call] of calls) rows.push(await timed(what, call));
    const after = await tableSnapshot();
    dynamo().restore();
    report('DynamoDB black-holed, every route:', rows);

    for (const { what, reply } of rows) {
      expect(reply.status, `${what}: ${reply.text}`).not.toBe(502);
      expect(reply.status, `${what}: ${reply.text}`).not.toBe(504);
      expectUnavailable(reply);
    }
    expect(changedKeys(before, after), 'items written while DynamoDB was hung').toEqual([]);

    // Recovered: nothing was half-done, so the client's retries are safe and create exactly one request per key.
    await untilHealthy();
    expect((await showRequest(stack(), target.id)).life_cycle_state).toBe('PENDING');
    const beforeRetry = await requestIds();
    const retries = [
      await createClearPin(stack(), KNOWN_CARD, {}, { 'Idempotency-Key': 'hung-1' }),
      await createClearPin(stack(), KNOWN_CARD, { process_immediately: true }, { 'Idempotency-Key': 'hung-2' }),
    ];
    const again = [
      await createClearPin(stack(), KNOWN_CARD, {}, { 'Idempotency-Key': 'hung-1' }),
      await createClearPin(stack(), KNOWN_CARD, { process_immediately: true }, { 'Idempotency-Key': 'hung-2' }),
    ];
    expect(retries.map((r) => r.status)).toEqual([200, 200]);
    expect(again.map(idIn)).toEqual(retries.map(idIn));
    expect((await addedSince(beforeRetry)).sort()).toEqual(retries.map(idIn).sort());
    // The released token still works: the release met the black hole and did nothing.
    expect((await postJson(stack(), ROUTES.release, { token: fresh })).status).toBe(200);
    for (const reply of retries) accepted.push({ id: idIn(reply), number: reply.body?.data.number, card: KNOWN_CARD });
  });
});

describe('SQS hangs (accepts connections, never answers)', { timeout: 120_000 }, () => {
  it('answers a process_immediately create 200, stores it once, and the processing run completes it', async () => {
    const before = await requestIds();
    sqs().blackHole();
    const rows = [
      await timed('clear_pin process_immediately', () =>
        createClearPin(stack(), OTHER_KNOWN_CARD, { process_immediately: true }),
      ),
      await timed('clear_pin process_immediately + Idempotency-Key', () =>
        createClearPin(stack(), OTHER_KNOWN_CARD, { process_immediately: true }, { 'Idempotency-Key': 'sqs-hung-1' }),
      ),
      // The same key and body again while SQS still hangs: a client that did not see the first answer retries.
      await timed('same Idempotency-Key again (SQS still hung)', () =>
        createClearPin(stack(), OTHER_KNOWN_CARD, { process_immediately: true }, { 'Idempotency-Key': 'sqs-hung-1' }),
      ),
      await timed('clear_pin (scheduled now)', () => createClearPin(stack(), OTHER_KNOWN_CARD)),
    ];
    report('SQS black-holed:', rows);
    for (const { what, reply } of rows) {
      expect(reply.status, `${what}: ${reply.text}`).toBe(200);
      expect(envelopeProblems(reply)).toEqual([]);
      expect(reply.body?.data.life_cycle_state).toBe('PENDING');
    }
    const [unkeyed, keyed, keyedAgain, scheduled] = rows.map((r) => r.reply) as [Reply, Reply, Reply, Reply];
    expect(idIn(keyedAgain)).toBe(idIn(keyed));
    expect(keyedAgain.body?.data.number).toBe(keyed.body?.data.number);
    const ids = [idIn(unkeyed), idIn(keyed), idIn(scheduled)];
    expect((await addedSince(before)).sort()).toEqual([...ids].sort());

    // A client that got 200 holds the request itself (id and number): show finds it, so it has nothing to retry.
    expect((await showRequest(stack(), idIn(unkeyed))).number).toBe(unkeyed.body?.data.number);

    // While SQS hangs nothing reaches the queue or the headend: the worker is the only way there, and the
    // processing run's own hand-on sends meet the black hole too. Wait for a run to have tried (next look moved).
    const firstLook = new Map(
      await Promise.all(ids.map(async (id) => [id, (await readItem(stack(), id))?.dueAt] as const)),
    );
    await vi.waitFor(
      async () => {
        const looks = await Promise.all(ids.map(async (id) => (await readItem(stack(), id))?.dueAt));
        expect(looks.filter((look, i) => look === firstLook.get(ids[i] as string))).toEqual([]);
      },
      { timeout: 20_000, interval: 250 },
    );
    const { visible, inFlight } = await queueCounts(stack().sqs, stack().queueUrl);
    expect(visible + inFlight).toBe(0);
    for (const id of ids) expect(stack().headend.executions(id)).toBe(0);

    sqs().restore();
    const started = performance.now();
    const items = await waitUntilFinal(stack(), ids, 30_000);
    console.log(`SQS restored: the 3 requests were final after ${Math.round(performance.now() - started)} ms`);
    for (const id of ids) expect(items.get(id)?.lifeCycleState).toBe('COMPLETED');
    // After the outage the same key still answers the first response and creates nothing.
    const beforeLate = await requestIds();
    const late = await createClearPin(
      stack(),
      OTHER_KNOWN_CARD,
      { process_immediately: true },
      { 'Idempotency-Key': 'sqs-hung-1' },
    );
    expect(idIn(late)).toBe(idIn(keyed));
    expect(await addedSince(beforeLate)).toEqual([]);
    for (const reply of [unkeyed, keyed, scheduled]) {
      accepted.push({ id: idIn(reply), number: reply.body?.data.number, card: OTHER_KNOWN_CARD });
    }
  });
});

describe('DynamoDB flaps between answering and hanging', { timeout: 120_000 }, () => {
  it('never answers other than 200 or 503; every 200 is stored once; a keyed retry after a 503 makes one request', async () => {
    const before = await requestIds();
    type Outcome = { key: string | undefined; reply: Reply; ms: number; body: Record<string, unknown> };
    const outcomes: Outcome[] = [];
    let flapping = true;
    // Hangs longer and shorter than one call's two 2 s attempts, with healthy spells between them long enough for
    // the pool's silenced connections to time out (else every create of a spell meets one): a create meets a hang
    // at any of its steps, on one attempt or both. Bounded: it stops by itself after about 19 s.
    const hangs = [3_000, 4_500, 2_500];
    const flapper = (async () => {
      for (const hangMs of hangs) {
        dynamo().blackHole();
        await new Promise((resolve) => setTimeout(resolve, hangMs));
        dynamo().restore();
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
      flapping = false;
    })();
    // Six clients; each create is keyed on even turns, so both kinds meet the hangs at every step.
    const client = async (lane: number) => {
      for (let turn = 0; flapping && turn < 40; turn++) {
        const key = turn % 2 === 0 ? `flap-${lane}-${turn}` : undefined;
        const body = { process_immediately: turn % 4 < 2 };
        const started = performance.now();
        const reply = await createClearPin(stack(), KNOWN_CARD, body, key ? { 'Idempotency-Key': key } : {});
        outcomes.push({ key, reply, ms: Math.round(performance.now() - started), body });
      }
    };
    await Promise.all([flapper, ...[0, 1, 2, 3, 4, 5].map(client)]);
    dynamo().restore();
    const refusedAfter = await untilHealthy();

    const statuses = outcomes.map((o) => o.reply.status);
    const count = (status: number, keyed: boolean) =>
      outcomes.filter((o) => o.reply.status === status && (o.key !== undefined) === keyed).length;
    console.log(
      `flapping DynamoDB: ${outcomes.length} creates; keyed 200 ${count(200, true)}, 503 ${count(503, true)}; ` +
        `unkeyed 200 ${count(200, false)}, 503 ${count(503, false)}; slowest answer ${Math.max(...outcomes.map((o) => o.ms))} ms; ` +
        `API reads refused 503 after the last hang: ${refusedAfter}`,
    );
    for (const { reply } of outcomes) {
      expect([200, 503], reply.text).toContain(reply.status);
      if (reply.status === 503) expectUnavailable(reply);
      else expect(envelopeProblems(reply)).toEqual([]);
    }
    // The hangs did bite: some creates were refused, some taken.
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);

    // Every keyed create is retried with its key until it answers 200 (as a client would after a 503).
    const keyedIds = new Map<string, string>();
    for (const outcome of outcomes.filter((o) => o.key !== undefined)) {
      const key = outcome.key as string;
      const retry = await vi.waitFor(
        async () => {
          const reply = await createClearPin(stack(), KNOWN_CARD, outcome.body, { 'Idempotency-Key': key });
          expect(reply.status, reply.text).toBe(200);
          return reply;
        },
        { timeout: 10_000, interval: 250 },
      );
      if (outcome.reply.status === 200) expect(idIn(retry), `key ${key}`).toBe(idIn(outcome.reply));
      keyedIds.set(key, idIn(retry));
    }
    const unkeyed200 = outcomes.filter((o) => o.key === undefined && o.reply.status === 200).map((o) => idIn(o.reply));
    const added = await addedSince(before);
    // Requests nobody was told about: unkeyed creates answered 503 although written (a reply lost in a hang).
    const orphans = added.filter((id) => !unkeyed200.includes(id) && ![...keyedIds.values()].includes(id));
    console.log(`flapping DynamoDB: unkeyed creates answered 503 although written: ${orphans.length}`);
    expect(new Set(keyedIds.values()).size, 'one request per key').toBe(keyedIds.size);
    for (const id of [...keyedIds.values(), ...unkeyed200]) expect(added).toContain(id);
    expect(orphans.length, 'more unaccounted requests than unkeyed 503s').toBeLessThanOrEqual(count(503, false));
    for (const id of [...keyedIds.values(), ...unkeyed200, ...orphans]) {
      accepted.push({ id, number: '', card: KNOWN_CARD });
    }
  });
});

describe('DynamoDB starts hanging at one chosen write of an API call', { timeout: 120_000 }, () => {
  let trap: ReplyTrap;
  beforeAll(async () => {
    trap = await startReplyTrap(stack().dynamoEndpoint);
    dynamo().setTarget(trap.url);
    // Pooled connections still lead straight to DynamoDB: reset them, so every new one goes through the trap.
    dynamo().cut();
    dynamo().restore();
    await untilHealthy();
  });
  afterAll(async () => {
    dynamo().restore();
    dynamo().setTarget(stack().dynamoEndpoint);
    await trap.stop();
  });

  /** The create's conditional put of the request item: the write that makes it exist. */
  const REQUEST_PUT = /X-Amz-Target: DynamoDB_20120810\.PutItem[\s\S]*"REQ#/i;

  const lostAndHung = async (headers: Record<string, string>) => {
    const before = await requestIds();
    trap.arm(REQUEST_PUT, () => dynamo().blackHole());
    const row = await timed('create, put applied, reply lost, then hung', () =>
      createClearPin(stack(), KNOWN_CARD, { process_immediately: true }, headers),
    );
    report('reply lost while DynamoDB stays down:', [row]);
    const added = await addedSince(before);
    dynamo().restore();
    await untilHealthy();
    return { reply: row.reply, added, before };
  };

  it('with an Idempotency-Key: the 503 is honest about retrying, and the retry answers the stored request', async () => {
    const { reply, added, before } = await lostAndHung({ 'Idempotency-Key': 'lost-and-hung' });
    expect(trap.sprung()).toBe(1);
    expectUnavailable(reply);
    // Written although answered 503 (DynamoDB took the put; nothing could tell the API so).
    expect(added.length).toBe(1);
    const retry = await createClearPin(
      stack(),
      KNOWN_CARD,
      { process_immediately: true },
      { 'Idempotency-Key': 'lost-and-hung' },
    );
    expect(retry.status, retry.text).toBe(200);
    expect(idIn(retry)).toBe(added[0]);
    expect(await addedSince(before)).toEqual(added);
    accepted.push({ id: idIn(retry), number: retry.body?.data.number, card: KNOWN_CARD });
  });

  let unkeyedAdded: string[] | undefined;
  it('without an Idempotency-Key: answers 503 from the handler, and the request it stored is not lost', async () => {
    const { reply, added } = await lostAndHung({});
    for (const id of added) accepted.push({ id, number: '', card: KNOWN_CARD });
    expect(trap.sprung()).toBe(2);
    expectUnavailable(reply);
    // At most the one put the trap let through (a second would be a duplicate made by the API itself).
    expect(added.length).toBeLessThanOrEqual(1);
    unkeyedAdded = added;
  });

  // KNOWN RESIDUAL (docs/reliability.md, Limits): SPEC §2.5 says a 503 leaves nothing written. Without a key the API
  // cannot learn that its put was applied while DynamoDB stays down, so it answers 503 for a stored request, and a
  // client's retry of that 503 creates a second one. `it.fails` keeps the SPEC's assertion: it turns red once fixed.
  it.fails('without an Idempotency-Key: a 503 leaves no request behind (SPEC §2.5)', ({ skip }) => {
    // Only meaningful after the test above (not when a filter ran this one alone): else it would "fail" for nothing.
    if (unkeyedAdded === undefined) skip();
    expect(unkeyedAdded, 'requests stored for a create answered 503').toEqual([]);
  });

  /** Login's clearing of the username's attempt slots, after the password was judged right. */
  const SLOT_CLEAR = /X-Amz-Target: DynamoDB_20120810\.DeleteItem[\s\S]*"LOGIN#/i;

  const attemptRecord = async () =>
    [...(await tableSnapshot()).entries()].find(
      ([pk]) => pk.startsWith('LOGIN#') && pk.endsWith(`#${DEMO_LOGIN.username}`),
    )?.[1];

  // KNOWN RESIDUAL (docs/reliability.md, Limits): SPEC §2.1 locks a username after 5 *failed* logins. A login with
  // the right password takes its attempt slot before the password is judged (what bounds parallel guessing), and
  // gives it back by clearing the slots; when DynamoDB takes the slot and then refuses or hangs on the clear, the
  // answer is 503 and the slot stays. It takes five of those for one username within 15 minutes, each caught in
  // the milliseconds between its two writes, to lock it (for 15 minutes, as five wrong passwords would). A real
  // outage refuses the slot write too, and leaves nothing. `it.fails` keeps SPEC's assertion: red once fixed.
  it.fails('login: a 503 keeps no attempt slot, so five logins met by a hang do not lock the right password out', async () => {
    expect((await login(stack())).status).toBe(200);
    const statuses: number[] = [];
    let slotsAfterFirst: string | undefined;
    for (let round = 0; round < 5; round++) {
      // The first one hangs (the subject of this file); the rest are refused, which is quicker and the same case.
      trap.arm(SLOT_CLEAR, () => (round === 0 ? dynamo().blackHole() : dynamo().cut()), 'request');
      const row = await timed(`login, DynamoDB hangs after the password is judged (${round + 1})`, () =>
        login(stack()),
      );
      if (round === 0) slotsAfterFirst = await attemptRecord();
      dynamo().restore();
      if (round === 0) {
        report('login met by a hang after its attempt slot:', [row]);
        await untilHealthy();
      }
      expectUnavailable(row.reply);
      statuses.push(row.reply.status);
    }
    const after = await login(stack());
    console.log(
      `login after 5 such 503s: ${after.status} ${after.body?.status.code} Retry-After ${after.headers.get('retry-after')}; ` +
        `attempt record after the first 503: ${slotsAfterFirst}`,
    );
    expect(statuses).toEqual([503, 503, 503, 503, 503]);
    expect(after.status, after.text).toBe(200);
  });

  /** The cancel's conditional final write (REJECTED CANCELLED). */
  const CANCEL_WRITE = /X-Amz-Target: DynamoDB_20120810\.UpdateItem[\s\S]*"CANCELLED"/i;

  it('cancel applied, reply lost, DynamoDB stays down: the retry never cancels twice nor reaches the headend', async () => {
    const target = (await createClearPin(stack(), OTHER_KNOWN_CARD, { scheduled_date: tomorrow() })).body?.data;
    expect(target?.life_cycle_state).toBe('PENDING');
    const body = { token: DEMO_TOKEN, provisioning_request_identifier: { id: target.id } };
    trap.arm(CANCEL_WRITE, () => dynamo().blackHole());
    const first = await timed('cancel, write applied, reply lost, then hung', () => postJson(stack(), CANCEL, body));
    const stored = await readItem(stack(), target.id);
    dynamo().restore();
    await untilHealthy();
    const again = await timed('its retry after recovery', () => postJson(stack(), CANCEL, body));
    const retry = again.reply;
    report('cancel, reply lost while DynamoDB stays down, then its retry:', [first, again]);
    expect(trap.sprung()).toBeGreaterThan(0);
    expectUnavailable(first.reply);
    expect({ state: stored?.lifeCycleState, code: stored?.errorCode }).toEqual({
      state: 'REJECTED',
      code: 'CANCELLED',
    });
    // The cancel is done; its retry says so (SPEC §2.7: one already final is 409 REQUEST_ALREADY_FINAL).
    expect({ status: retry.status, code: retry.body?.status.code }).toEqual({
      status: 409,
      code: 'REQUEST_ALREADY_FINAL',
    });
    expect((await showRequest(stack(), target.id)).error_code).toBe('CANCELLED');
    expect(stack().headend.executions(target.id)).toBe(0);
  });
});

describe('after all the hangs', { timeout: 120_000 }, () => {
  it('completes every request that was stored, each executed once by the headend', async () => {
    const ids = accepted.map((c) => c.id);
    await waitUntilFinal(stack(), ids, 30_000);
    expect(await settledProblems(stack(), accepted)).toEqual([]);
    expect(stack().headend.maxExecutionsPerTransaction()).toBe(1);
  });
});
