import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clearPinBody,
  DEMO_TOKEN,
  KNOWN_CARD,
  OTHER_LOGIN,
  OTHER_ORGANISATION_CARD,
  seedBody,
} from '../helpers/demo.ts';
import { get, login, postJson, type Reply, ROUTES } from '../helpers/http.ts';
import { CRM_DATE, CRM_ID } from '../helpers/oracle.ts';
import { storedRequests } from '../helpers/requests.ts';
import { jsonType, SEED_DATA, seedShapeProblems } from '../helpers/seed.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** SPEC §2.3 and §2.4 over HTTP: the seed example, show, Idempotency-Key and the work queue. */

const stack = useLocalStack({ processing: false });

const clearPin = (body: unknown, headers?: Record<string, string>) => postJson(stack(), ROUTES.clearPin, body, headers);
const show = (query: Record<string, string>) => get(stack(), ROUTES.show, { token: DEMO_TOKEN, ...query });
const requestCount = async () => (await storedRequests(stack())).size;

/**
 * Every message on the work queue, taken off it. A create answers only after its send has finished, so whatever
 * a create sent is already there: no waiting.
 */
const drainQueue = async (): Promise<string[]> => {
  const seen: string[] = [];
  for (;;) {
    const { Messages = [] } = await stack().sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack().queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return seen;
    for (const message of Messages) seen.push((JSON.parse(message.Body ?? '{}') as { requestId: string }).requestId);
  }
};

describe('the seed example (seed/clear_pin.txt) sent verbatim', () => {
  let response: Reply;

  beforeAll(async () => {
    const body = `{
\t"token"\t: "A7AD3752AC7B48099A80E62C8F0BE565",
\t"subscription_identifier" : { "number" : "S60507" },
\t"smartcard_identifier" : { "serial_number" : "smrt20000054"}
} `;
    response = await clearPin(body);
  });

  it('answers 200 with the OK envelope', () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body?.status).toEqual({ message: '', description: '', code: 'OK' });
    expect(Object.keys(response.body ?? {}).sort()).toEqual(['data', 'status']);
  });

  it('has exactly the seed’s keys, each of the seed’s type', () => {
    const data = response.body?.data;
    expect(Object.keys(data).sort()).toEqual(Object.keys(SEED_DATA).sort());
    for (const [key, value] of Object.entries(SEED_DATA)) {
      expect({ key, type: jsonType(data[key]) }).toEqual({ key, type: jsonType(value) });
    }
    expect(seedShapeProblems(data)).toEqual([]);
  });

  it('has the seed’s fixed values', () => {
    const data = response.body?.data;
    expect(data).toMatchObject({
      type: 'CLEAR_CA_PIN',
      process_name: 'RESET_PIN_CODE_UTILITY',
      life_cycle_state: 'PENDING',
      priority: 'REGULAR',
      process_immediately: 0,
      name: null,
    });
    for (const [key, value] of Object.entries(SEED_DATA)) {
      if (value === null) expect({ key, value: data[key] }).toEqual({ key, value: null });
    }
  });

  it('is logged as the token’s user and unit, exactly as in the seed', () => {
    const log = response.body?.data.log_information;
    expect(Object.keys(log).sort()).toEqual(Object.keys(SEED_DATA.log_information).sort());
    for (const key of ['created_by_unit', 'updated_by_unit', 'created_by_user', 'updated_by_user'] as const) {
      expect(log[key]).toEqual(SEED_DATA.log_information[key]);
    }
    expect(log.created_date).toMatch(CRM_DATE);
    expect(log.updated_date).toBe(log.created_date);
  });

  it('has four parameters with their own ids, one with the smartcard CA id, one with the distribution id', () => {
    const parameters = response.body?.data.parameters_set as Record<string, string>[];
    expect(parameters).toHaveLength(4);
    for (const parameter of parameters) expect(parameter.id).toMatch(CRM_ID);
    expect(new Set(parameters.map((p) => p.id)).size).toBe(4);
    expect(parameters.filter((p) => p.smartcard_ca_id !== undefined)).toEqual([
      { smartcard_ca_id: 'smrt200000', id: expect.stringMatching(CRM_ID) },
    ]);
    expect(parameters.filter((p) => p.sub_provisioning_distribution_id !== undefined)).toEqual([
      { sub_provisioning_distribution_id: '296D64F4D3A543B6AC4F4820F13FDC41', id: expect.stringMatching(CRM_ID) },
    ]);
  });

  it('has an id of 32 uppercase hex, a decimal number, and is scheduled now in CRM.COM’s date form', () => {
    const data = response.body?.data;
    expect(data.id).toMatch(CRM_ID);
    expect(data.number).toMatch(/^[1-9]\d*$/);
    expect(data.scheduled_date).toMatch(CRM_DATE);
    const scheduled = Date.parse(`${data.scheduled_date}Z`);
    expect(Math.abs(scheduled - Date.now())).toBeLessThan(60_000);
  });

  it('is stored PENDING under its id', async () => {
    const { Item } = await stack().document.send(
      new GetCommand({ TableName: stack().tableName, Key: { pk: `REQ#${response.body?.data.id}` } }),
    );
    expect(Item?.lifeCycleState).toBe('PENDING');
    expect(Item?.number).toBe(response.body?.data.number);
  });
});

describe('the request fields', () => {
  it('take the subscription by id and the smartcard by id or alternative code', async () => {
    const byIds = await clearPin(
      seedBody({
        subscription_identifier: { id: KNOWN_CARD.subscriptionId },
        smartcard_identifier: { id: KNOWN_CARD.itemId },
      }),
    );
    expect(byIds.status).toBe(200);
    const byAlt = await clearPin(seedBody({ smartcard_identifier: { alternative_code: KNOWN_CARD.alternativeCode } }));
    expect(byAlt.status).toBe(200);
    expect(byAlt.body?.data.parameters_set).toContainEqual({
      smartcard_ca_id: KNOWN_CARD.caId,
      id: expect.any(String),
    });
  });

  it('number each new request above the previous one', async () => {
    const first = await clearPin(seedBody());
    const second = await clearPin(seedBody());
    expect(Number(second.body?.data.number)).toBeGreaterThan(Number(first.body?.data.number));
    expect(second.body?.data.id).not.toBe(first.body?.data.id);
  });

  it('keep EXPRESS and a scheduled date (written back in the operator zone, UTC by default)', async () => {
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
    const response = await clearPin(
      seedBody({ priority: 'EXPRESS', scheduled_date: `${tomorrow}T10:00:00+02:00`, process_immediately: 'false' }),
    );
    expect(response.status).toBe(200);
    expect(response.body?.data).toMatchObject({
      priority: 'EXPRESS',
      scheduled_date: `${tomorrow}T08:00:00`,
      process_immediately: 0,
    });
  });

  it('keep a scheduled date in the past (due at once)', async () => {
    const response = await clearPin(seedBody({ scheduled_date: '2015-09-07T17:56:11' }));
    expect(response.status).toBe(200);
    expect(response.body?.data.scheduled_date).toBe('2015-09-07T17:56:11');
    expect(response.body?.data.life_cycle_state).toBe('PENDING');
  });

  it('read YYYY-MM-DD as the start of that day', async () => {
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
    const response = await clearPin(seedBody({ scheduled_date: tomorrow }));
    expect(response.body?.data.scheduled_date).toBe(`${tomorrow}T00:00:00`);
  });

  it.each([
    [true, 1],
    [1, 1],
    ['true', 1],
    [false, 0],
    [0, 0],
    ['false', 0],
  ])('take process_immediately %j, shown as %d', async (value, shown) => {
    const response = await clearPin(seedBody({ process_immediately: value }));
    expect(response.status).toBe(200);
    expect(response.body?.data.process_immediately).toBe(shown);
  });
});

describe('the work queue', () => {
  it('gets the id of a process_immediately request, and nothing for one that is not', async () => {
    await drainQueue();
    const later = await clearPin(seedBody({ process_immediately: false }));
    const now = await clearPin(seedBody({ process_immediately: true }));
    const sent = await drainQueue();
    expect(sent).toContain(now.body?.data.id);
    expect(sent).not.toContain(later.body?.data.id);
    expect(sent.filter((id) => id === now.body?.data.id)).toHaveLength(1);
  });

  it('carries the API call’s correlation id with the message, for the worker’s log lines', async () => {
    await drainQueue();
    await clearPin(seedBody({ process_immediately: true }));
    const { Messages = [] } = await stack().sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack().queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages[0]?.MessageAttributes?.correlationId?.StringValue).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gets nothing for a request without process_immediately', async () => {
    await drainQueue();
    await clearPin(seedBody());
    expect(await drainQueue()).toEqual([]);
  });
});

describe('show', () => {
  let created: Record<string, unknown>;

  beforeAll(async () => {
    created = (await clearPin(seedBody({ priority: 'EXPRESS' }))).body?.data;
  });

  it('finds the request by id=, as it was created', async () => {
    const response = await show({ provisioning_request_identifier: `id=${created.id}` });
    expect(response.status).toBe(200);
    expect(response.body?.status).toEqual({ code: 'OK', message: '', description: '' });
    expect(response.body?.data).toEqual(created);
  });

  it('finds the request by number=, CRM.COM style', async () => {
    const response = await show({ provisioning_request_identifier: `number=${created.number}` });
    expect(response.status).toBe(200);
    expect(response.body?.data).toEqual(created);
  });

  it('answers in the seed’s shape', async () => {
    const response = await show({ provisioning_request_identifier: `number=${created.number}` });
    expect(seedShapeProblems(response.body?.data)).toEqual([]);
  });

  it('answers only the fields of fields_set', async () => {
    const response = await show({
      provisioning_request_identifier: `number=${created.number}`,
      fields_set: 'life_cycle_state,number,priority',
    });
    expect(response.status).toBe(200);
    expect(response.body?.data).toEqual({ number: created.number, life_cycle_state: 'PENDING', priority: 'EXPRESS' });
  });

  it('shows the current state', async () => {
    await stack().document.send(
      new UpdateCommand({
        TableName: stack().tableName,
        Key: { pk: `REQ#${created.id}` },
        UpdateExpression: 'SET lifeCycleState = :s, errorCode = :c, errorDescription = :d',
        ExpressionAttributeValues: { ':s': 'REJECTED', ':c': 'UNKNOWN_SMARTCARD', ':d': 'Unknown card.' },
      }),
    );
    const response = await show({ provisioning_request_identifier: `id=${created.id}` });
    expect(response.body?.data).toMatchObject({
      life_cycle_state: 'REJECTED',
      error_code: 'UNKNOWN_SMARTCARD',
      error_description: 'Unknown card.',
    });
  });
});

describe('Idempotency-Key', () => {
  it('a repeat with the same key and body answers the first response and creates nothing', async () => {
    const key = `same-${Date.now()}`;
    const before = await requestCount();
    const first = await clearPin(seedBody(), { 'Idempotency-Key': key });
    const second = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await requestCount()).toBe(before + 1);
  });

  it('the same body with its keys in another order is the same request', async () => {
    const key = `order-${Date.now()}`;
    const first = await clearPin(seedBody({ priority: 'EXPRESS' }), { 'Idempotency-Key': key });
    const reordered = `{"priority":"EXPRESS","smartcard_identifier":{"serial_number":"${KNOWN_CARD.serial}"},"subscription_identifier":{"number":"${KNOWN_CARD.subscription}"},"token":"${DEMO_TOKEN}"}`;
    const second = await clearPin(reordered, { 'Idempotency-Key': key });
    expect(second.body?.data.id).toBe(first.body?.data.id);
  });

  it('the same key with a different body is IDEMPOTENCY_KEY_REUSED, and creates nothing', async () => {
    const key = `different-${Date.now()}`;
    const first = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    const before = await requestCount();
    const second = await clearPin(seedBody({ priority: 'EXPRESS' }), { 'Idempotency-Key': key });
    expect(second.status).toBe(422);
    expect(second.body).toMatchObject({ status: { code: 'IDEMPOTENCY_KEY_REUSED' }, data: null });
    expect(second.body?.status.description).toContain('Idempotency-Key');
    expect(await requestCount()).toBe(before);
  });

  it('a repeat after a new login, with the new token, still answers the first response', async () => {
    const key = `relogin-${Date.now()}`;
    const first = await clearPin(seedBody(), { 'Idempotency-Key': key });
    const relogin = await login(stack());
    expect(relogin.status).toBe(200);
    const before = await requestCount();
    const again = await clearPin(seedBody({ token: relogin.body?.data.token }), { 'Idempotency-Key': key });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await requestCount()).toBe(before);
  });

  it('different keys create different requests', async () => {
    const a = await clearPin(seedBody(), { 'Idempotency-Key': `a-${Date.now()}` });
    const b = await clearPin(seedBody(), { 'Idempotency-Key': `b-${Date.now()}` });
    expect(a.body?.data.id).not.toBe(b.body?.data.id);
  });

  it('a key with a space inside is a printable key', async () => {
    const response = await clearPin(seedBody(), { 'Idempotency-Key': `order 66 ${Date.now()}` });
    expect(response.status).toBe(200);
  });

  it('a refused request does not use up the key', async () => {
    const key = `refused-${Date.now()}`;
    const refused = await clearPin(seedBody({ smartcard_identifier: { serial_number: 'stb10000001' } }), {
      'Idempotency-Key': key,
    });
    expect(refused.status).toBe(422);
    const accepted = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(accepted.status).toBe(200);
  });

  it('a repeat of a process_immediately request sends nothing more to the queue', async () => {
    await drainQueue();
    const key = `queue-${Date.now()}`;
    const first = await clearPin(seedBody({ process_immediately: true }), { 'Idempotency-Key': key });
    await clearPin(seedBody({ process_immediately: true }), { 'Idempotency-Key': key });
    const sent = await drainQueue();
    expect(sent.filter((id) => id === first.body?.data.id)).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it('the same request however its values are spelt (true, 1, "true"; a date with or without its time)', async () => {
    const key = `spelling-${Date.now()}`;
    const before = await requestCount();
    const first = await clearPin(seedBody({ process_immediately: true, scheduled_date: '2026-12-31' }), {
      'Idempotency-Key': key,
    });
    expect(first.status).toBe(200);
    for (const spelling of [
      { process_immediately: 1, scheduled_date: '2026-12-31T00:00:00' },
      { process_immediately: 'true', scheduled_date: '2026-12-31T00:00:00Z', priority: 'REGULAR' },
    ]) {
      const again = await clearPin(seedBody(spelling), { 'Idempotency-Key': key });
      expect(again.status, JSON.stringify(spelling)).toBe(200);
      expect(again.body).toEqual(first.body);
    }
    expect(await requestCount()).toBe(before + 1);
  });

  it('keeps a key as long as its request (past the 24 h of SPEC), answering the first response as it was', async () => {
    const key = `day-old-${Date.now()}`;
    const first = await clearPin(seedBody(), { 'Idempotency-Key': key });
    const id = first.body?.data.id as string;
    // A day and more later, after the headend completed it:
    await stack().document.send(
      new UpdateCommand({
        TableName: stack().tableName,
        Key: { pk: `REQ#${id}` },
        UpdateExpression: 'SET lifeCycleState = :done, referenceNumber = :ref, createdAt = :then, executedAt = :then',
        ExpressionAttributeValues: {
          ':done': 'COMPLETED',
          ':ref': 'REF-1',
          ':then': new Date(Date.now() - 25 * 3600_000).toISOString(),
        },
      }),
    );
    const later = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(later.status).toBe(200);
    expect(later.body?.data).toMatchObject({
      id,
      number: first.body?.data.number,
      life_cycle_state: 'PENDING',
      reference_number: null,
    });
    const changed = await clearPin(seedBody({ priority: 'EXPRESS' }), { 'Idempotency-Key': key });
    expect(changed.status).toBe(422);
  });

  it('50 identical repeats at once: one request, and every answer the first response or 409 with Retry-After', async () => {
    const key = `burst-${Date.now()}`;
    const before = await requestCount();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => clearPin(seedBody(), { 'Idempotency-Key': key })),
    );
    const created = answers.filter((a) => a.status === 200);
    expect(created.length).toBeGreaterThan(0);
    expect(new Set(created.map((a) => `${a.body?.data.id}/${a.body?.data.number}`)).size).toBe(1);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status).toBe(409);
      expect(answer.body?.status.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      expect(answer.headers.get('retry-after')).toBe('1');
    }
    expect(await requestCount()).toBe(before + 1);
  });

  it("is the user's: another organisation's user with the same key gets a request of its own", async () => {
    const key = `shared-${Date.now()}`;
    const mine = await clearPin(seedBody(), { 'Idempotency-Key': key });
    const other = await login(stack(), OTHER_LOGIN);
    const theirs = await clearPin(clearPinBody(OTHER_ORGANISATION_CARD, { token: other.body?.data.token }), {
      'Idempotency-Key': key,
    });
    expect(theirs.status, theirs.text).toBe(200);
    expect(theirs.body?.data.id).not.toBe(mine.body?.data.id);
  });
});
