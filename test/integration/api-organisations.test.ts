import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import {
  CARDS,
  clearPinBody,
  DEMO_ORGANISATION,
  DEMO_TOKEN,
  type DemoCard,
  KNOWN_CARD,
  OTHER_LOGIN,
  OTHER_ORGANISATION,
  OTHER_ORGANISATION_CARD,
} from '../helpers/demo.ts';
import { type CrmRequest, get, login, postJson, type Reply, ROUTES, show, tokenIn } from '../helpers/http.ts';
import { MORE_ROUTES } from '../helpers/openapi.ts';
import { readItem, storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * Issue requirement 2, SPEC §2 "Organisations": every look-up is scoped to the token's organisation, so another
 * organisation's subscription, card or request is answered exactly as a missing one — in create, show, list and
 * cancel, both ways between the demo organisation (CRMDEMO) and the second one (CRMOTHER) — and `number` stays
 * unique across organisations. "Exactly" is checked byte for byte: the answer for another organisation's item is
 * the answer for a missing one, but for the identifier it echoes.
 */

// No processing: requests stay PENDING, so a cancel refused for isolation can be told from one refused for state.
const stack = useLocalStack({ processing: false });

const DEMO = DEMO_ORGANISATION.name;
const OTHER = OTHER_ORGANISATION.name;
let otherToken: string;

/** The demo organisation's Nagravision card on the other subscription than KNOWN_CARD's (for list filters). */
const SECOND_DEMO_CARD = CARDS.find((c) => c.subscription !== KNOWN_CARD.subscription) as DemoCard;

/** Ids of 32 uppercase hex that no item has; numbers and serials that no item has, of the same length. */
const MISSING_ID = 'F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0';
const MISSING_ID_2 = '0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F';
const missingLike = (value: string) => `${value.slice(0, 1)}${'9'.repeat(value.length - 1)}`;

const clearPin = (body: Record<string, unknown>) => postJson(stack(), ROUTES.clearPin, body);
const cancel = (identifier: Record<string, string>, token: string) =>
  postJson(stack(), MORE_ROUTES.cancel, { token, provisioning_request_identifier: identifier });
const list = (token: string, query: Record<string, string> = {}) => get(stack(), MORE_ROUTES.list, { token, ...query });
const requestCount = async () => (await storedRequests(stack())).size;

const create = async (token: string, card: DemoCard, extra: Record<string, unknown> = {}): Promise<CrmRequest> => {
  const reply = await clearPin(clearPinBody(card, { token, ...extra }));
  if (reply.status !== 200) throw new Error(`create failed: ${reply.status} ${reply.text}`);
  return reply.body?.data as CrmRequest;
};

/**
 * The answer for another organisation's item is the answer for a missing one: the same status, the same headers
 * (but the date, and the length when the echoed identifiers differ in length) and the same body, byte for byte once
 * each echoed identifier is replaced by the same placeholder.
 */
const expectSameAnswer = (actual: Reply, echoed: string, missing: Reply, missingEchoed: string) => {
  const headers = (reply: Reply, sameLength: boolean) =>
    [...reply.headers.entries()].filter(([name]) => name !== 'date' && (sameLength || name !== 'content-length'));
  const sameLength = echoed.length === missingEchoed.length;
  expect(actual.status).toBe(missing.status);
  expect(actual.text.replaceAll(echoed, '«identifier»')).toBe(missing.text.replaceAll(missingEchoed, '«identifier»'));
  expect(headers(actual, sameLength)).toEqual(headers(missing, sameLength));
  // The placeholder replaced something: the answer does echo the identifier (else the comparison proves less).
  expect(missing.text).toContain(missingEchoed);
};

beforeAll(async () => {
  otherToken = tokenIn(await login(stack(), OTHER_LOGIN));
  expect(otherToken).toMatch(/^[0-9A-F]{32}$/);
});

describe('create: the other organisation’s subscription or smartcard is a missing one', () => {
  type Attempt = {
    label: string;
    token: () => string;
    subscription: Record<string, string>;
    smartcard: Record<string, string>;
    code: 'SUBSCRIPTION_NOT_FOUND' | 'SMARTCARD_NOT_FOUND';
    /** The same request with the foreign identifier replaced by a missing one of the same length. */
    missing: { subscription?: Record<string, string>; smartcard?: Record<string, string> };
    echoed: string;
    missingEchoed: string;
  };
  const own = OTHER_ORGANISATION_CARD;
  const attempts: Attempt[] = [
    {
      label: `${OTHER} names ${DEMO}'s subscription by number`,
      token: () => otherToken,
      subscription: { number: KNOWN_CARD.subscription },
      smartcard: { serial_number: own.serial },
      code: 'SUBSCRIPTION_NOT_FOUND',
      missing: { subscription: { number: missingLike(KNOWN_CARD.subscription) } },
      echoed: KNOWN_CARD.subscription,
      missingEchoed: missingLike(KNOWN_CARD.subscription),
    },
    {
      label: `${OTHER} names ${DEMO}'s subscription by id`,
      token: () => otherToken,
      subscription: { id: KNOWN_CARD.subscriptionId },
      smartcard: { serial_number: own.serial },
      code: 'SUBSCRIPTION_NOT_FOUND',
      missing: { subscription: { id: MISSING_ID } },
      echoed: KNOWN_CARD.subscriptionId,
      missingEchoed: MISSING_ID,
    },
    {
      label: `${OTHER} names ${DEMO}'s smartcard by serial number, on its own subscription`,
      token: () => otherToken,
      subscription: { number: own.subscription },
      smartcard: { serial_number: KNOWN_CARD.serial },
      code: 'SMARTCARD_NOT_FOUND',
      missing: { smartcard: { serial_number: missingLike(KNOWN_CARD.serial) } },
      echoed: KNOWN_CARD.serial,
      missingEchoed: missingLike(KNOWN_CARD.serial),
    },
    {
      label: `${OTHER} names ${DEMO}'s smartcard by id`,
      token: () => otherToken,
      subscription: { number: own.subscription },
      smartcard: { id: KNOWN_CARD.itemId },
      code: 'SMARTCARD_NOT_FOUND',
      missing: { smartcard: { id: MISSING_ID } },
      echoed: KNOWN_CARD.itemId,
      missingEchoed: MISSING_ID,
    },
    {
      label: `${OTHER} names ${DEMO}'s smartcard by alternative code`,
      token: () => otherToken,
      subscription: { number: own.subscription },
      smartcard: { alternative_code: KNOWN_CARD.alternativeCode as string },
      code: 'SMARTCARD_NOT_FOUND',
      missing: { smartcard: { alternative_code: missingLike(KNOWN_CARD.alternativeCode as string) } },
      echoed: KNOWN_CARD.alternativeCode as string,
      missingEchoed: missingLike(KNOWN_CARD.alternativeCode as string),
    },
    {
      label: `${DEMO} names ${OTHER}'s subscription by number`,
      token: () => DEMO_TOKEN,
      subscription: { number: own.subscription },
      smartcard: { serial_number: KNOWN_CARD.serial },
      code: 'SUBSCRIPTION_NOT_FOUND',
      missing: { subscription: { number: missingLike(own.subscription) } },
      echoed: own.subscription,
      missingEchoed: missingLike(own.subscription),
    },
    {
      label: `${DEMO} names ${OTHER}'s subscription by id`,
      token: () => DEMO_TOKEN,
      subscription: { id: own.subscriptionId },
      smartcard: { serial_number: KNOWN_CARD.serial },
      code: 'SUBSCRIPTION_NOT_FOUND',
      missing: { subscription: { id: MISSING_ID } },
      echoed: own.subscriptionId,
      missingEchoed: MISSING_ID,
    },
    {
      // Not SMARTCARD_NOT_IN_SUBSCRIPTION: that would say the card exists somewhere.
      label: `${DEMO} names ${OTHER}'s smartcard by serial number, on its own subscription`,
      token: () => DEMO_TOKEN,
      subscription: { number: KNOWN_CARD.subscription },
      smartcard: { serial_number: own.serial },
      code: 'SMARTCARD_NOT_FOUND',
      missing: { smartcard: { serial_number: missingLike(own.serial) } },
      echoed: own.serial,
      missingEchoed: missingLike(own.serial),
    },
    {
      label: `${DEMO} names ${OTHER}'s smartcard by id`,
      token: () => DEMO_TOKEN,
      subscription: { number: KNOWN_CARD.subscription },
      smartcard: { id: own.itemId },
      code: 'SMARTCARD_NOT_FOUND',
      missing: { smartcard: { id: MISSING_ID } },
      echoed: own.itemId,
      missingEchoed: MISSING_ID,
    },
    {
      label: `${DEMO} names ${OTHER}'s subscription and smartcard together`,
      token: () => DEMO_TOKEN,
      subscription: { id: own.subscriptionId },
      smartcard: { id: own.itemId },
      code: 'SUBSCRIPTION_NOT_FOUND',
      missing: { subscription: { id: MISSING_ID }, smartcard: { id: MISSING_ID_2 } },
      echoed: own.subscriptionId,
      missingEchoed: MISSING_ID,
    },
  ];

  it.each(attempts.map((a) => [a.label, a] as const))('%s', async (_label, a) => {
    const before = await requestCount();
    const body = { token: a.token(), subscription_identifier: a.subscription, smartcard_identifier: a.smartcard };
    const foreign = await clearPin(body);
    const missing = await clearPin({
      ...body,
      ...(a.missing.subscription && { subscription_identifier: a.missing.subscription }),
      ...(a.missing.smartcard && { smartcard_identifier: a.missing.smartcard }),
    });
    expect({ status: foreign.status, code: foreign.body?.status.code }).toEqual({ status: 404, code: a.code });
    expectSameAnswer(foreign, a.echoed, missing, a.missingEchoed);
    expect(await requestCount()).toBe(before);
  });

  it('each organisation creates on its own subscription and card (the identifiers above are real)', async () => {
    const mine = await clearPin(clearPinBody(KNOWN_CARD));
    const theirs = await clearPin(clearPinBody(OTHER_ORGANISATION_CARD, { token: otherToken }));
    expect([mine.status, theirs.status]).toEqual([200, 200]);
    const byIds = await clearPin({
      token: otherToken,
      subscription_identifier: { id: OTHER_ORGANISATION_CARD.subscriptionId },
      smartcard_identifier: { id: OTHER_ORGANISATION_CARD.itemId },
    });
    expect(byIds.status, byIds.text).toBe(200);
  });
});

describe('show and cancel: the other organisation’s request is a missing one', () => {
  let mine: CrmRequest;
  let theirs: CrmRequest;
  let claimedMine: CrmRequest;

  beforeAll(async () => {
    mine = await create(DEMO_TOKEN, KNOWN_CARD);
    theirs = await create(otherToken, OTHER_ORGANISATION_CARD);
    claimedMine = await create(DEMO_TOKEN, KNOWN_CARD);
  });

  /** A number no request has: the sequence is one per deployment and far below this. */
  const MISSING_NUMBER = '987654321';

  const directions = () =>
    [
      [`${OTHER} asks for ${DEMO}'s request`, otherToken, mine, DEMO_TOKEN],
      [`${DEMO} asks for ${OTHER}'s request`, DEMO_TOKEN, theirs, otherToken],
    ] as const;

  it.each([0, 1])('show by id and by number (direction %i)', async (index) => {
    const [, token, request, ownerToken] = directions()[index] as ReturnType<typeof directions>[number];
    // Its owner sees it: the identifiers are right.
    expect((await show(stack(), `id=${request.id}`, ownerToken)).status).toBe(200);
    expect((await show(stack(), `number=${request.number}`, ownerToken)).status).toBe(200);

    const byId = await show(stack(), `id=${request.id}`, token);
    expect({ status: byId.status, code: byId.body?.status.code }).toEqual({
      status: 404,
      code: 'PROVISIONING_REQUEST_NOT_FOUND',
    });
    expectSameAnswer(byId, request.id, await show(stack(), `id=${MISSING_ID}`, token), MISSING_ID);

    const byNumber = await show(stack(), `number=${request.number}`, token);
    expect(byNumber.body?.status.code).toBe('PROVISIONING_REQUEST_NOT_FOUND');
    expectSameAnswer(
      byNumber,
      `number=${request.number}`,
      await show(stack(), `number=${MISSING_NUMBER}`, token),
      `number=${MISSING_NUMBER}`,
    );

    const narrowed = await get(stack(), ROUTES.show, {
      token,
      provisioning_request_identifier: `id=${request.id}`,
      fields_set: 'id,number',
    });
    const narrowedMissing = await get(stack(), ROUTES.show, {
      token,
      provisioning_request_identifier: `id=${MISSING_ID}`,
      fields_set: 'id,number',
    });
    expectSameAnswer(narrowed, request.id, narrowedMissing, MISSING_ID);
  });

  it.each([0, 1])(
    'cancel by id and by number is refused as missing and changes nothing (direction %i)',
    async (index) => {
      const [, token, request, ownerToken] = directions()[index] as ReturnType<typeof directions>[number];
      const before = await show(stack(), `id=${request.id}`, ownerToken);

      const byId = await cancel({ id: request.id }, token);
      expect({ status: byId.status, code: byId.body?.status.code }).toEqual({
        status: 404,
        code: 'PROVISIONING_REQUEST_NOT_FOUND',
      });
      expectSameAnswer(byId, request.id, await cancel({ id: MISSING_ID }, token), MISSING_ID);
      const byNumber = await cancel({ number: request.number }, token);
      expectSameAnswer(byNumber, request.number, await cancel({ number: MISSING_NUMBER }, token), MISSING_NUMBER);

      // Untouched: its owner sees exactly what it saw before, and can still cancel it.
      expect((await show(stack(), `id=${request.id}`, ownerToken)).text).toBe(before.text);
      const owners = await cancel({ number: request.number }, ownerToken);
      expect(owners.status, owners.text).toBe(200);
      expect(owners.body?.data).toMatchObject({
        id: request.id,
        life_cycle_state: 'REJECTED',
        error_code: 'CANCELLED',
      });
    },
  );

  it('a final request of the other organisation is missing, not REQUEST_ALREADY_FINAL', async () => {
    const finalMine = await create(DEMO_TOKEN, KNOWN_CARD);
    expect((await cancel({ id: finalMine.id }, DEMO_TOKEN)).status).toBe(200);
    expect((await cancel({ id: finalMine.id }, DEMO_TOKEN)).body?.status.code).toBe('REQUEST_ALREADY_FINAL');
    const foreign = await cancel({ id: finalMine.id }, otherToken);
    expectSameAnswer(foreign, finalMine.id, await cancel({ id: MISSING_ID }, otherToken), MISSING_ID);
    const foreignShow = await show(stack(), `id=${finalMine.id}`, otherToken);
    expectSameAnswer(foreignShow, finalMine.id, await show(stack(), `id=${MISSING_ID}`, otherToken), MISSING_ID);
  });

  it('a claimed request of the other organisation is missing, not REQUEST_IN_PROGRESS', async () => {
    // A worker's claim as the worker writes it: a claim id and a lease.
    await stack().document.send(
      new UpdateCommand({
        TableName: stack().tableName,
        Key: { pk: keys.request(claimedMine.id) },
        UpdateExpression: 'SET claimId = :claim, leaseUntil = :lease',
        ExpressionAttributeValues: {
          ':claim': 'isolation-claim',
          ':lease': new Date(Date.now() + 3600_000).toISOString(),
        },
      }),
    );
    expect((await cancel({ id: claimedMine.id }, DEMO_TOKEN)).body?.status.code).toBe('REQUEST_IN_PROGRESS');
    const foreign = await cancel({ id: claimedMine.id }, otherToken);
    expectSameAnswer(foreign, claimedMine.id, await cancel({ id: MISSING_ID }, otherToken), MISSING_ID);
  });
});

describe('list: only the token’s organisation', () => {
  const demoIds = new Set<string>();
  const otherIds = new Set<string>();
  let yesterday: string;
  let tomorrow: string;

  beforeAll(async () => {
    // Both organisations' requests in every list partition: both priorities, PENDING and (cancelled) REJECTED.
    const made = await Promise.all([
      create(DEMO_TOKEN, KNOWN_CARD),
      create(DEMO_TOKEN, KNOWN_CARD, { priority: 'EXPRESS' }),
      create(DEMO_TOKEN, SECOND_DEMO_CARD),
      create(otherToken, OTHER_ORGANISATION_CARD),
      create(otherToken, OTHER_ORGANISATION_CARD, { priority: 'EXPRESS' }),
      create(otherToken, OTHER_ORGANISATION_CARD),
    ]);
    const [d1, , , o1] = made;
    expect((await cancel({ id: d1.id }, DEMO_TOKEN)).status).toBe(200);
    expect((await cancel({ id: o1.id }, otherToken)).status).toBe(200);
    // Everything either organisation has, whatever the earlier tests of this file created.
    for (const [id, item] of await storedRequests(stack())) {
      (item.organisation === DEMO ? demoIds : otherIds).add(id);
    }
    yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  });

  const idsOf = (reply: Reply): string[] => {
    expect(reply.status, reply.text).toBe(200);
    return ((reply.body?.data ?? []) as { id: string }[]).map((r) => r.id);
  };

  const filters = (): [string, Record<string, string>][] => [
    ['no filter', {}],
    ['PENDING', { life_cycle_state: 'PENDING' }],
    ['REJECTED', { life_cycle_state: 'REJECTED' }],
    ['COMPLETED', { life_cycle_state: 'COMPLETED' }],
    ['REGULAR', { priority: 'REGULAR' }],
    ['EXPRESS', { priority: 'EXPRESS' }],
    ['PENDING EXPRESS', { life_cycle_state: 'PENDING', priority: 'EXPRESS' }],
    ['created from yesterday to tomorrow', { created_date_from: yesterday, created_date_to: tomorrow }],
    ['created from yesterday', { created_date_from: `${yesterday}T00:00:00Z` }],
    ['fields_set', { fields_set: 'id,number' }],
    ['a page', { number_of_results: '50', offset: '0' }],
  ];

  it(`${OTHER} sees all of its requests and none of ${DEMO}'s, with and without filters`, async () => {
    expect(otherIds.size).toBeGreaterThan(2);
    expect(idsOf(await list(otherToken)).sort()).toEqual([...otherIds].sort());
    for (const [label, query] of filters()) {
      const ids = idsOf(await list(otherToken, query));
      expect(
        ids.filter((id) => demoIds.has(id)),
        label,
      ).toEqual([]);
      expect(
        ids.every((id) => otherIds.has(id)),
        label,
      ).toBe(true);
    }
  });

  it(`${DEMO} sees its requests and none of ${OTHER}'s, with and without filters`, async () => {
    const all = idsOf(await list(DEMO_TOKEN));
    // The list pages at 50 (SPEC §2.6); this file's demo requests fit in one page.
    expect(demoIds.size).toBeLessThanOrEqual(50);
    expect(all.sort()).toEqual([...demoIds].sort());
    for (const [label, query] of filters()) {
      expect(
        idsOf(await list(DEMO_TOKEN, query)).filter((id) => otherIds.has(id)),
        label,
      ).toEqual([]);
    }
  });

  it('the filters find each organisation’s own requests (so the lists above are not vacuously empty)', async () => {
    const pendingOther = idsOf(await list(otherToken, { life_cycle_state: 'PENDING' }));
    const rejectedOther = idsOf(await list(otherToken, { life_cycle_state: 'REJECTED' }));
    const expressDemo = idsOf(await list(DEMO_TOKEN, { priority: 'EXPRESS' }));
    const bySubscription = idsOf(
      await list(otherToken, { subscription_identifier: `number=${OTHER_ORGANISATION_CARD.subscription}` }),
    );
    const byCard = idsOf(await list(DEMO_TOKEN, { smartcard_identifier: `serial_number=${KNOWN_CARD.serial}` }));
    expect([pendingOther, rejectedOther, expressDemo, bySubscription, byCard].map((ids) => ids.length > 0)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(bySubscription.sort()).toEqual([...otherIds].sort());
  });

  type Foreign = [label: string, token: () => string, name: string, value: string, missing: string];
  const foreignFilters: Foreign[] = [
    [
      `${OTHER}: ${DEMO}'s subscription number`,
      () => otherToken,
      'subscription_identifier',
      `number=${KNOWN_CARD.subscription}`,
      `number=${missingLike(KNOWN_CARD.subscription)}`,
    ],
    [
      `${OTHER}: ${DEMO}'s subscription id`,
      () => otherToken,
      'subscription_identifier',
      `id=${KNOWN_CARD.subscriptionId}`,
      `id=${MISSING_ID}`,
    ],
    [
      `${OTHER}: ${DEMO}'s card serial`,
      () => otherToken,
      'smartcard_identifier',
      `serial_number=${KNOWN_CARD.serial}`,
      `serial_number=${missingLike(KNOWN_CARD.serial)}`,
    ],
    [
      `${OTHER}: ${DEMO}'s card id`,
      () => otherToken,
      'smartcard_identifier',
      `id=${KNOWN_CARD.itemId}`,
      `id=${MISSING_ID}`,
    ],
    [
      `${OTHER}: ${DEMO}'s card alternative code`,
      () => otherToken,
      'smartcard_identifier',
      `alternative_code=${KNOWN_CARD.alternativeCode}`,
      `alternative_code=${missingLike(KNOWN_CARD.alternativeCode as string)}`,
    ],
    [
      `${DEMO}: ${OTHER}'s subscription number`,
      () => DEMO_TOKEN,
      'subscription_identifier',
      `number=${OTHER_ORGANISATION_CARD.subscription}`,
      `number=${missingLike(OTHER_ORGANISATION_CARD.subscription)}`,
    ],
    [
      `${DEMO}: ${OTHER}'s subscription id`,
      () => DEMO_TOKEN,
      'subscription_identifier',
      `id=${OTHER_ORGANISATION_CARD.subscriptionId}`,
      `id=${MISSING_ID}`,
    ],
    [
      `${DEMO}: ${OTHER}'s card serial`,
      () => DEMO_TOKEN,
      'smartcard_identifier',
      `serial_number=${OTHER_ORGANISATION_CARD.serial}`,
      `serial_number=${missingLike(OTHER_ORGANISATION_CARD.serial)}`,
    ],
    [
      `${DEMO}: ${OTHER}'s card id`,
      () => DEMO_TOKEN,
      'smartcard_identifier',
      `id=${OTHER_ORGANISATION_CARD.itemId}`,
      `id=${MISSING_ID}`,
    ],
  ];

  it.each(foreignFilters)(
    'a filter on the other organisation’s item lists nothing, as a missing one: %s',
    async (_label, token, name, value, missing) => {
      const extras: Record<string, string>[] = [{}, { life_cycle_state: 'PENDING' }, { fields_set: 'id' }];
      for (const extra of extras) {
        const foreign = await list(token(), { [name]: value, ...extra });
        const unknown = await list(token(), { [name]: missing, ...extra });
        expect(foreign.body?.data).toEqual([]);
        // Byte for byte: an empty list echoes nothing.
        expect(foreign.text).toBe(unknown.text);
        expect(foreign.status).toBe(unknown.status);
      }
    },
  );
});

describe('what is stored carries its organisation, and numbers are one sequence', () => {
  it('each request is stored with the organisation of the token that created it', async () => {
    const mine = await create(DEMO_TOKEN, KNOWN_CARD);
    const theirs = await create(otherToken, OTHER_ORGANISATION_CARD);
    expect((await readItem(stack(), mine.id))?.organisation).toBe(DEMO);
    expect((await readItem(stack(), theirs.id))?.organisation).toBe(OTHER);
  });

  it('each subscription and installed item is stored with its organisation', async () => {
    const read = async (pk: string) =>
      (await stack().document.send(new GetCommand({ TableName: stack().tableName, Key: { pk } }))).Item;
    for (const [organisation, card] of [
      [DEMO, KNOWN_CARD],
      [OTHER, OTHER_ORGANISATION_CARD],
    ] as const) {
      expect((await read(keys.subscriptionByNumber(organisation, card.subscription)))?.organisation).toBe(organisation);
      expect((await read(keys.subscriptionById(organisation, card.subscriptionId)))?.organisation).toBe(organisation);
      expect((await read(keys.itemBySerial(organisation, card.serial)))?.organisation).toBe(organisation);
      expect((await read(keys.itemById(organisation, card.itemId)))?.organisation).toBe(organisation);
    }
  });

  it('`number` is unique across organisations, even for creates at the same moment', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0 ? create(DEMO_TOKEN, KNOWN_CARD) : create(otherToken, OTHER_ORGANISATION_CARD),
      ),
    );
    const numbers = [...(await storedRequests(stack())).values()].map((item) => ({
      organisation: item.organisation,
      number: String(item.number),
    }));
    expect(new Set(numbers.map((n) => n.organisation))).toEqual(new Set([DEMO, OTHER]));
    expect(numbers.every((n) => /^\d+$/.test(n.number))).toBe(true);
    const seen = new Map<string, number>();
    for (const { number } of numbers) seen.set(number, (seen.get(number) ?? 0) + 1);
    expect([...seen].filter(([, count]) => count > 1)).toEqual([]);
  });
});
