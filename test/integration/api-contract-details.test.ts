import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedId } from '../../functions/domain/identifiers.ts';
import { loadReferenceData } from '../../infra/tools/reference-data.ts';
import {
  clearPinBody,
  DEMO_LOGIN,
  DEMO_ORGANISATION,
  DEMO_TOKEN,
  DEMO_UNIT_ID,
  KNOWN_CARD,
  seedBody,
} from '../helpers/demo.ts';
import {
  type CrmRequest,
  call,
  createRequest,
  get,
  login,
  postJson,
  type Reply,
  ROUTES,
  show,
  tokenIn,
} from '../helpers/http.ts';
import { MORE_ROUTES, postBytes, rawExchange, rawRequest } from '../helpers/openapi.ts';
import { CRM_DATE } from '../helpers/oracle.ts';
import { storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * Issue requirements 3 and 5: the contract's loose ends as SPEC §2.4 and §2.5 now state them, each through the local
 * HTTP front against dynalite — Retry-After, dates, tokens, the body's size, encoding and media type, the front's
 * own errors, Cache-Control on every answer, unknown routes, and show by number.
 */

// No processing: requests stay PENDING (cancellable), and the outage at the end disturbs nothing in the background.
const stack = useLocalStack({ processing: false, env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });

const DEMO = DEMO_ORGANISATION.name;
const UNKNOWN_TOKEN = '00000000000000000000000000000000';
/** SPEC §2.5, restated on purpose: the body limit. */
const MAX_BODY_BYTES = 16 * 1024;

const clearPin = (body: unknown, headers?: Record<string, string>) => postJson(stack(), ROUTES.clearPin, body, headers);
const cancelBody = (identifier: Record<string, string>, token = DEMO_TOKEN) => ({
  token,
  provisioning_request_identifier: identifier,
});
const list = (query: Record<string, string>) => get(stack(), MORE_ROUTES.list, query);
const requestCount = async () => (await storedRequests(stack())).size;
const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** Pads JSON with trailing whitespace (still the same JSON) to exactly `bytes` bytes. */
const padTo = (json: string | Buffer, bytes: number): Buffer => {
  const head = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  if (head.length > bytes) throw new Error(`the body is already ${head.length} bytes`);
  return Buffer.concat([head, Buffer.alloc(bytes - head.length, 0x20)]);
};

/** An error in CRM.COM's envelope (SPEC §2): JSON, `status` with a code, a sentence and a description, `data: null`. */
const expectEnvelope = (reply: Reply, status: number | number[], code: string) => {
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses, `HTTP ${reply.status}: ${reply.text.slice(0, 300)}`).toContain(reply.status);
  expect(reply.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.body).toEqual({
    status: { code, message: expect.any(String), description: expect.any(String) },
    data: null,
  });
  expect(reply.body?.status.message.length).toBeGreaterThan(0);
};

const expectCode = (reply: Reply, status: number, code: string) =>
  expect({ status: reply.status, code: reply.body?.status?.code }, reply.text.slice(0, 300)).toEqual({ status, code });

/** Loads one more user of the demo organisation, in its one unit. */
const addDemoUser = (user: { id: string; username: string; person_name: string; password: string }) =>
  loadReferenceData(stack().document, stack().tableName, {
    organisations: [
      {
        name: DEMO,
        units: DEMO_ORGANISATION.units,
        users: [
          {
            id: user.id,
            username: user.username,
            person_name: user.person_name,
            password: user.password,
            default_unit_id: DEMO_UNIT_ID,
            unit_ids: [DEMO_UNIT_ID],
          },
        ],
        subscriptions: [],
      },
    ],
  });

/** SPEC §2.5 and §2.1, restated on purpose: Retry-After in whole seconds, at most the 15-minute lock. */
const RETRY_AFTER = /^[1-9]\d*$/;

describe('Retry-After', () => {
  const LOCKED = { username: 'lockout-user', password: 'right-password', organisation: DEMO };

  beforeAll(() => addDemoUser({ id: '90', person_name: 'Lock Out', ...LOCKED }));

  it('every 429 of the login lock-out carries it, the right password’s included', async () => {
    // The account works: the lock-out below is not a missing user.
    expect((await login(stack(), LOCKED)).status).toBe(200);
    const attempts: Reply[] = [];
    for (let i = 0; i < 8; i++) attempts.push(await login(stack(), { ...LOCKED, password: `wrong-${i}` }));
    attempts.push(await login(stack(), LOCKED));
    // SPEC §2.1: five failed logins are judged, then every attempt is refused.
    expect(attempts.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429]);
    for (const refused of attempts.filter((a) => a.status === 429)) {
      expectEnvelope(refused, 429, 'TOO_MANY_ATTEMPTS');
      const retryAfter = refused.headers.get('retry-after') ?? '';
      expect(retryAfter).toMatch(RETRY_AFTER);
      expect(Number(retryAfter)).toBeLessThanOrEqual(15 * 60);
    }
  });

  it('409 IDEMPOTENCY_KEY_IN_PROGRESS carries Retry-After: 1, and a retry once the first is written answers', async () => {
    const key = `in-progress-${Date.now()}`;
    const user = DEMO_ORGANISATION.users.find((u) => u.username === DEMO_LOGIN.username);
    // The record a create finds under the key's request id while the first create with that key is still being
    // written: there, but not readable as this user's request (functions/use-cases/create-clear-pin.ts).
    const pk = `REQ#${derivedId('clear-pin', DEMO, user?.id as string, key)}`;
    await stack().document.send(
      new PutCommand({ TableName: stack().tableName, Item: { pk, organisation: 'BEING-WRITTEN' } }),
    );
    const racing = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expectEnvelope(racing, 409, 'IDEMPOTENCY_KEY_IN_PROGRESS');
    // SPEC §2.3, restated on purpose.
    expect(racing.headers.get('retry-after')).toBe('1');

    await stack().document.send(new DeleteCommand({ TableName: stack().tableName, Key: { pk } }));
    const retry = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(retry.status, retry.text).toBe(200);
    const repeat = await clearPin(seedBody(), { 'Idempotency-Key': key });
    expect(repeat.body?.data.id).toBe(retry.body?.data.id);
  });
});

describe('Idempotency-Key is scoped to the user', () => {
  // A gap in test/integration/api-clear-pin.test.ts, which shows the scope across organisations only.
  const SECOND = { username: 'second-user', password: 'second-password', organisation: DEMO };

  beforeAll(() => addDemoUser({ id: '91', person_name: 'Second User', ...SECOND }));

  it('another user of the same organisation with the same key and body gets a request of its own', async () => {
    const key = `per-user-${Date.now()}`;
    const mine = await clearPin(seedBody(), { 'Idempotency-Key': key });
    const token = tokenIn(await login(stack(), SECOND));
    const theirs = await clearPin(seedBody({ token }), { 'Idempotency-Key': key });
    expect([mine.status, theirs.status]).toEqual([200, 200]);
    expect(theirs.body?.data.id).not.toBe(mine.body?.data.id);
    expect(theirs.body?.data.log_information.created_by_user.username).toBe(SECOND.username);
    // And each user's repeat still answers that user's first response.
    expect((await clearPin(seedBody(), { 'Idempotency-Key': key })).body?.data.id).toBe(mine.body?.data.id);
    expect((await clearPin(seedBody({ token }), { 'Idempotency-Key': key })).body?.data.id).toBe(theirs.body?.data.id);
  });
});

describe('dates', () => {
  const t = dayFromNow(1);
  const REFUSED = [
    // Years 0100–0999: before 1970, and not to be read as 19xx or written with three digits.
    '0100-01-01T00:00:00',
    '0100-01-01',
    '0999-12-31T23:59:59',
    '0500-06-15T12:00:00Z',
    '0500-06-15T12:00:00+02:00',
    '0999-12-31T23:59:59.999Z',
    '0100-01-01T00:00:00-05:00',
    // Before 1970-01-01 in any form, an offset that puts the instant before it included.
    '1969-12-31T23:59:59Z',
    '1969-12-31T23:59:59',
    '1969-12-31',
    '1900-01-01T00:00:00+00:00',
    '1970-01-01T00:30:00+01:00',
    '0001-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0099-12-31',
    // Hour 24, in every form (SPEC §2.5).
    `${t}T24:00:00Z`,
    `${t}T24:00:00+02:00`,
    `${t}T24:00:00-05:00`,
    `${t}T24:00:00`,
    `${t}T24:00:00.000Z`,
    `${t}T24:00Z`,
    `${t}T24:00+02:00`,
  ];

  it.each(REFUSED)('scheduled_date %s is INVALID_DATE, and nothing is created', async (date) => {
    const before = await requestCount();
    const reply = await clearPin(seedBody({ scheduled_date: date }));
    expectEnvelope(reply, 400, 'INVALID_DATE');
    expect(reply.body?.status.description).toContain('scheduled_date');
    expect(await requestCount()).toBe(before);
  });

  it.each(REFUSED)('list created_date_from and created_date_to %s are INVALID_DATE', async (date) => {
    expectCode(await list({ token: DEMO_TOKEN, created_date_from: date }), 400, 'INVALID_DATE');
    expectCode(await list({ token: DEMO_TOKEN, created_date_to: date }), 400, 'INVALID_DATE');
  });

  /** Every date-time of an answered request, by where it is. */
  const datesOf = (data: Record<string, unknown>): Record<string, unknown> => {
    const log = (data.log_information ?? {}) as Record<string, unknown>;
    return {
      scheduled_date: data.scheduled_date,
      created_date: log.created_date,
      updated_date: log.updated_date,
      ...(data.executed_date !== null && { executed_date: data.executed_date }),
    };
  };
  const badDates = (data: Record<string, unknown>) =>
    Object.entries(datesOf(data)).filter(([, value]) => !CRM_DATE.test(String(value)));

  const ACCEPTED: [string, string][] = [
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00'],
    ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00'],
    ['1970-01-01T00:00:00', '1970-01-01T00:00:00'],
    ['1970-01-01', '1970-01-01T00:00:00'],
    ['1970-01-01T01:00:00+01:00', '1970-01-01T00:00:00'],
    ['1970-01-01T00:00:01-00:00', '1970-01-01T00:00:01'],
    [`${t}T23:59:59Z`, `${t}T23:59:59`],
    [`${t}T00:00:00+02:00`, `${dayFromNow(0)}T22:00:00`],
  ];

  it.each(ACCEPTED)(
    'scheduled_date %s is taken and written back %s, every date with four digits of year',
    async (given, written) => {
      const created = await clearPin(seedBody({ scheduled_date: given }));
      expect(created.status, created.text).toBe(200);
      expect(created.body?.data.scheduled_date).toBe(written);
      expect(badDates(created.body?.data)).toEqual([]);
      const shown = await show(stack(), `id=${created.body?.data.id}`);
      expect(shown.body?.data.scheduled_date).toBe(written);
      expect(badDates(shown.body?.data)).toEqual([]);
    },
  );

  it('list writes every date with a four-digit year, and takes 1970-01-01 as a bound', async () => {
    const reply = await list({ token: DEMO_TOKEN, created_date_from: '1970-01-01' });
    expect(reply.status, reply.text).toBe(200);
    const data = reply.body?.data as Record<string, unknown>[];
    // The 1970 creates above are in it.
    expect(data.some((r) => r.scheduled_date === '1970-01-01T00:00:00')).toBe(true);
    expect(data.flatMap(badDates)).toEqual([]);
  });
});

describe('tokens are compared over ASCII only', () => {
  // The demo token with its first two hex digits made `FF`, loaded as a second live token of the demo user; the
  // attack writes `ﬀ` (U+FB00, whose Unicode upper case is `FF`) in their place.
  const FF_TOKEN = `FF${DEMO_TOKEN.slice(2)}`;
  const LIGATURE = `\uFB00${DEMO_TOKEN.slice(2)}`;
  const LOOKALIKES = [
    ['ﬀ for FF', LIGATURE],
    ['ﬀ for ff (lower case)', `\uFB00${DEMO_TOKEN.slice(2).toLowerCase()}`],
    ['fullwidth ＦＦ', `\uFF26\uFF26${DEMO_TOKEN.slice(2)}`],
  ] as const;

  beforeAll(async () => {
    await loadReferenceData(stack().document, stack().tableName, {
      organisations: [
        {
          ...DEMO_ORGANISATION,
          tokens: [{ token: FF_TOKEN, username: DEMO_LOGIN.username, unit_id: DEMO_UNIT_ID }],
        },
      ],
    });
  });

  const live = async (token: string) => (await list({ token, number_of_results: '1' })).status;

  it('the FF token works, in either ASCII case (the control)', async () => {
    // What makes the attack an attack: Unicode's upper case of the ligature is the live token.
    expect(LIGATURE.toUpperCase()).toBe(FF_TOKEN);
    expect(await live(FF_TOKEN)).toBe(200);
    expect(await live(FF_TOKEN.toLowerCase())).toBe(200);
  });

  const routes = (token: string): [string, () => Promise<Reply>][] => [
    ['list', () => list({ token })],
    ['show', () => show(stack(), 'number=1', token)],
    ['clear_pin', () => clearPin(seedBody({ token }))],
    ['cancel', () => postJson(stack(), MORE_ROUTES.cancel, cancelBody({ number: '1' }, token))],
    ['release', () => postJson(stack(), ROUTES.release, { token })],
  ];

  it.each(LOOKALIKES)('%s is INVALID_TOKEN on every route, answered as an unknown token', async (_label, token) => {
    const unknown = routes(UNKNOWN_TOKEN);
    for (const [index, [route, send]] of routes(token).entries()) {
      const refused = await send();
      expectEnvelope(refused, 401, 'INVALID_TOKEN');
      const [, sendUnknown] = unknown[index] as [string, () => Promise<Reply>];
      expect(refused.text, route).toBe((await sendUnknown()).text);
    }
    // Also written as a JSON escape, which the body parser turns into the same character.
    const escaped = `{"token":"${token.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}`;
    expectEnvelope(await postJson(stack(), ROUTES.release, escaped), 401, 'INVALID_TOKEN');
    // The refused release did not end the real token.
    expect(await live(FF_TOKEN)).toBe(200);
  });
});

describe('the body: 16 KiB counted in bytes, UTF-8, one JSON Content-Type', () => {
  let releasable: string;
  let cancellable: CrmRequest;

  beforeAll(async () => {
    releasable = tokenIn(await login(stack()));
    cancellable = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
  });

  /** Each route that takes a body, with a body it takes. */
  const BODIES: Record<string, [path: string, body: () => unknown]> = {
    login: [ROUTES.login, () => DEMO_LOGIN],
    release: [ROUTES.release, () => ({ token: releasable })],
    clear_pin: [ROUTES.clearPin, () => seedBody()],
    cancel: [MORE_ROUTES.cancel, () => cancelBody({ id: cancellable.id })],
  };
  const bodies = () => Object.entries(BODIES).map(([route, [path, body]]) => [route, path, body] as const);

  it.each(Object.keys(BODIES))('%s: a body of exactly 16,384 bytes is taken; 16,385 is 413', async (route) => {
    const [path, body] = BODIES[route] as [string, () => unknown];
    const tooLarge = await postBytes(stack(), path, padTo(JSON.stringify(body()), MAX_BODY_BYTES + 1));
    expectEnvelope(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    const atTheLimit = await postBytes(stack(), path, padTo(JSON.stringify(body()), MAX_BODY_BYTES));
    expect(atTheLimit.status, `${route}: ${atTheLimit.text}`).toBe(200);
  });

  it('bytes are counted, not characters', async () => {
    // Two bytes per character: 16,385 bytes in about 8,400 characters is too large.
    const wide = JSON.stringify(seedBody({ note: 'é'.repeat(8_000) }));
    expect(wide.length).toBeLessThan(MAX_BODY_BYTES);
    expectEnvelope(
      await postBytes(stack(), ROUTES.clearPin, padTo(wide, MAX_BODY_BYTES + 1)),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    // And 16,384 bytes with multi-byte characters is not: it reaches the look-ups.
    const serial = 'é'.repeat(200);
    const atTheLimit = padTo(
      JSON.stringify(seedBody({ smartcard_identifier: { serial_number: serial } })),
      MAX_BODY_BYTES,
    );
    expectEnvelope(await postBytes(stack(), ROUTES.clearPin, atTheLimit), 404, 'SMARTCARD_NOT_FOUND');
  });

  /** 16,384 bytes of a valid body but for one sequence that is never UTF-8. */
  const INVALID_UTF8: [string, (json: string) => Buffer][] = [
    ['a 0xFF byte', (json) => padTo(Buffer.concat([Buffer.from(`${json} `), Buffer.from([0xff])]), MAX_BODY_BYTES)],
    // Every body here opens with a string field; the byte goes first inside its value (the rest is ASCII).
    [
      'a lone continuation byte in a string',
      (json) => padTo(Buffer.from(json.replace('":"', '":"\x80'), 'latin1'), MAX_BODY_BYTES),
    ],
    [
      'an overlong "/"',
      (json) => padTo(Buffer.concat([Buffer.from(`${json} `), Buffer.from([0xc0, 0xaf])]), MAX_BODY_BYTES),
    ],
    [
      'an encoded surrogate',
      (json) => padTo(Buffer.concat([Buffer.from(`${json} `), Buffer.from([0xed, 0xa0, 0x80])]), MAX_BODY_BYTES),
    ],
    [
      'a sequence cut at the end',
      (json) => Buffer.concat([padTo(json, MAX_BODY_BYTES - 2), Buffer.from([0xe2, 0x82])]),
    ],
  ];

  it.each(INVALID_UTF8)('16,384 bytes with %s are 400 INVALID_REQUEST on every route', async (_label, make) => {
    for (const [route, path, body] of bodies()) {
      const bytes = make(JSON.stringify(body()));
      expect(bytes.length).toBe(MAX_BODY_BYTES);
      const reply = await postBytes(stack(), path, bytes);
      expect(reply.status, `${route}: ${reply.text}`).toBe(400);
      expectEnvelope(reply, 400, 'INVALID_REQUEST');
    }
  });

  it('the size is judged first: 16,385 bytes that are not UTF-8, or not JSON by their type, are 413', async () => {
    const notUtf8 = padTo(
      Buffer.concat([Buffer.from(`${JSON.stringify(seedBody())} `), Buffer.from([0xff])]),
      MAX_BODY_BYTES + 1,
    );
    expectEnvelope(await postBytes(stack(), ROUTES.clearPin, notUtf8), 413, 'PAYLOAD_TOO_LARGE');
    const asText = await rawRequest(stack(), {
      path: ROUTES.clearPin,
      rawHeaders: ['Content-Type', 'text/plain'],
      body: padTo(JSON.stringify(seedBody()), MAX_BODY_BYTES + 1),
    });
    expectEnvelope(asText, 413, 'PAYLOAD_TOO_LARGE');
  });

  const TWO_CONTENT_TYPES: [string, string[]][] = [
    ['the same header twice', ['Content-Type', 'application/json', 'Content-Type', 'application/json']],
    ['two letter cases of the name', ['Content-Type', 'application/json', 'content-type', 'application/json']],
    ['upper and lower case, different values', ['content-type', 'application/json', 'CONTENT-TYPE', 'text/plain']],
    [
      'with and without a charset',
      ['Content-Type', 'application/json; charset=utf-8', 'Content-type', 'application/json'],
    ],
  ];

  it.each(TWO_CONTENT_TYPES)('two Content-Type headers (%s) are 415 on every route', async (_label, rawHeaders) => {
    for (const [route, path, body] of bodies()) {
      const reply = await rawRequest(stack(), { path, rawHeaders, body: Buffer.from(JSON.stringify(body())) });
      expect(reply.status, `${route}: ${reply.text}`).toBe(415);
      expectEnvelope(reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('one Content-Type, sent the same way, is taken (the control)', async () => {
    const reply = await rawRequest(stack(), {
      path: ROUTES.clearPin,
      rawHeaders: ['content-type', 'application/json'],
      body: Buffer.from(JSON.stringify(seedBody())),
    });
    expect(reply.status, reply.text).toBe(200);
  });
});

describe("the front's own errors are answered in the envelope", () => {
  const host = () => new URL(stack().apiUrl).host;

  it('a malformed request line is 400', async () => {
    expectEnvelope(await rawExchange(stack(), 'GARBAGE\r\n\r\n'), 400, 'INVALID_REQUEST');
    expectEnvelope(await rawExchange(stack(), `get /nope HTTP/1.1\r\nHost: ${host()}\r\n\r\n`), 400, 'INVALID_REQUEST');
    expectEnvelope(await rawExchange(stack(), `GET /nope HTTP/9.9\r\nHost: ${host()}\r\n\r\n`), 400, 'INVALID_REQUEST');
  });

  it('a malformed header line is 400', async () => {
    const reply = await rawExchange(stack(), `GET /nope HTTP/1.1\r\nHost: ${host()}\r\nNo colon here\r\n\r\n`);
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
  });

  it('headers over Node’s limit are 431', async () => {
    const reply = await rawExchange(
      stack(),
      `GET /nope HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectEnvelope(reply, 431, 'INVALID_REQUEST');
  });

  it('a request target that is not a URL is 400', async () => {
    const reply = await rawExchange(stack(), `GET //[ HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
  });

  it('a malformed chunked body, or a length and a chunked encoding together, is 400', async () => {
    const head = `POST ${ROUTES.login} HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n`;
    expectEnvelope(
      await rawExchange(stack(), `${head}Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n`),
      400,
      'INVALID_REQUEST',
    );
    expectEnvelope(
      await rawExchange(stack(), `${head}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`),
      400,
      'INVALID_REQUEST',
    );
  });

  it('an HTTP/1.1 request without Host is 400 in the envelope', async () => {
    // Node's server refuses it itself (requireHostHeader), before the front's handler sees it.
    const reply = await rawExchange(
      stack(),
      `POST ${ROUTES.login} HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
  });

  it('an expectation the front cannot meet is answered in the envelope', async () => {
    // Node's server answers an Expect other than 100-continue itself (417), unless the front handles it.
    const reply = await rawExchange(
      stack(),
      `POST ${ROUTES.login} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\nExpect: something-else\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expectEnvelope(reply, [400, 417], 'INVALID_REQUEST');
  });

  it('a CONNECT is answered 404 in the envelope, not dropped', async () => {
    // Node hands a CONNECT to a 'connect' listener or closes the socket without a word.
    const reply = await rawExchange(stack(), `CONNECT ${host()} HTTP/1.1\r\nHost: ${host()}\r\n\r\n`);
    expectEnvelope(reply, 404, 'NOT_FOUND');
  });
});

describe('Cache-Control: no-store on every answer', () => {
  let releasable: string;
  let pending: CrmRequest;
  let cancellable: CrmRequest;

  beforeAll(async () => {
    releasable = tokenIn(await login(stack()));
    pending = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
    cancellable = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
  });

  const answers = (): [string, number, () => Promise<Reply>][] => [
    ['login', 200, () => login(stack())],
    ['login, wrong password', 401, () => login(stack(), { password: 'wrong' })],
    ['login, no organisation', 400, () => login(stack(), { organisation: undefined })],
    ['login, text/plain', 415, () => postJson(stack(), ROUTES.login, DEMO_LOGIN, { 'Content-Type': 'text/plain' })],
    ['release', 200, () => postJson(stack(), ROUTES.release, { token: releasable })],
    ['release, released token', 401, () => postJson(stack(), ROUTES.release, { token: releasable })],
    ['release, unknown field', 400, () => postJson(stack(), ROUTES.release, { token: DEMO_TOKEN, x: 1 })],
    ['clear_pin', 200, () => clearPin(seedBody())],
    ['clear_pin, not JSON', 400, () => clearPin('{')],
    ['clear_pin, unknown field', 400, () => clearPin(seedBody({ foo: 1 }))],
    ['clear_pin, unknown token', 401, () => clearPin(seedBody({ token: UNKNOWN_TOKEN }))],
    ['clear_pin, unknown subscription', 404, () => clearPin(seedBody({ subscription_identifier: { number: 'S0' } }))],
    [
      'clear_pin, card not on the subscription',
      422,
      () => clearPin(clearPinBody(KNOWN_CARD, { subscription_identifier: { number: 'S60508' } })),
    ],
    ['clear_pin, too large', 413, () => clearPin(' '.repeat(MAX_BODY_BYTES + 1))],
    ['show', 200, () => show(stack(), `id=${pending.id}`)],
    [
      'show, fields_set',
      200,
      () =>
        get(stack(), ROUTES.show, {
          token: DEMO_TOKEN,
          provisioning_request_identifier: `id=${pending.id}`,
          fields_set: 'id',
        }),
    ],
    ['show, missing', 404, () => show(stack(), 'number=987654321')],
    ['show, bad identifier', 400, () => show(stack(), 'foo')],
    ['show, unknown token', 401, () => show(stack(), 'number=1', UNKNOWN_TOKEN)],
    ['list', 200, () => list({ token: DEMO_TOKEN })],
    ['list, bad date', 400, () => list({ token: DEMO_TOKEN, created_date_from: 'yesterday' })],
    ['list, unknown token', 401, () => list({ token: UNKNOWN_TOKEN })],
    ['cancel', 200, () => postJson(stack(), MORE_ROUTES.cancel, cancelBody({ id: cancellable.id }))],
    ['cancel, already final', 409, () => postJson(stack(), MORE_ROUTES.cancel, cancelBody({ id: cancellable.id }))],
    ['cancel, missing', 404, () => postJson(stack(), MORE_ROUTES.cancel, cancelBody({ number: '987654321' }))],
    ['unknown route', 404, () => call(stack(), '/nope')],
    ['other method', 404, () => call(stack(), ROUTES.login, { method: 'DELETE' })],
    ['HEAD on a route', 404, () => call(stack(), MORE_ROUTES.list, { method: 'HEAD' })],
  ];

  it('for every route and outcome', async () => {
    const missing: string[] = [];
    for (const [label, status, send] of answers()) {
      const reply = await send();
      expect(reply.status, `${label}: ${reply.text.slice(0, 200)}`).toBe(status);
      if (reply.headers.get('cache-control') !== 'no-store')
        missing.push(`${label}: ${reply.headers.get('cache-control')}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('unknown routes, other methods and trailing slashes are 404 NOT_FOUND', () => {
  let known: CrmRequest;
  beforeAll(async () => {
    known = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
  });
  const PATHS = [ROUTES.login, ROUTES.release, ROUTES.clearPin, ROUTES.show, MORE_ROUTES.list, MORE_ROUTES.cancel];
  /** SPEC §2, restated on purpose: the one method of each path. */
  const METHOD: Record<string, string> = {
    [ROUTES.login]: 'POST',
    [ROUTES.release]: 'POST',
    [ROUTES.clearPin]: 'POST',
    [ROUTES.show]: 'GET',
    [MORE_ROUTES.list]: 'GET',
    [MORE_ROUTES.cancel]: 'POST',
  };

  it.each([
    '/',
    '/nope',
    '/authentication',
    '/authentication/token/extra',
    '/authentication//token',
    '/provisioning/provisioning_requests',
    '/nagravision/provisioning_requests/clear_pin/now',
    '/NAGRAVISION/provisioning_requests/clear_pin',
    '/provisioning/provisioning_requests/show.json',
  ])('GET and POST %s', async (path) => {
    expectEnvelope(await call(stack(), path), 404, 'NOT_FOUND');
    expectEnvelope(await postJson(stack(), path, seedBody()), 404, 'NOT_FOUND');
  });

  it.each(PATHS)('every other method on %s', async (path) => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => m !== METHOD[path])) {
      const reply = await call(stack(), path, {
        method,
        ...(method !== 'GET' && { body: JSON.stringify(seedBody()), headers: { 'content-type': 'application/json' } }),
      });
      expect(reply.body?.status.code, `${method} ${path}`).toBe('NOT_FOUND');
      expectEnvelope(reply, 404, 'NOT_FOUND');
    }
    const head = await call(stack(), path, { method: 'HEAD' });
    // HEAD answers carry no body; the status and the headers still say 404 and no-store.
    expect([head.status, head.headers.get('cache-control')]).toEqual([404, 'no-store']);
  });

  /** The request of `route` that succeeds on its exact path, sent to the path followed by `suffix`. */
  const working = (route: string, suffix: string): Promise<Reply> => {
    const path = `${route}${suffix}`;
    switch (route) {
      case ROUTES.login:
        return postJson(stack(), path, DEMO_LOGIN);
      case ROUTES.release:
        return login(stack()).then((r) => postJson(stack(), path, { token: tokenIn(r) }));
      case ROUTES.clearPin:
        return postJson(stack(), path, seedBody());
      case ROUTES.show:
        return get(stack(), path, { token: DEMO_TOKEN, provisioning_request_identifier: `id=${known.id}` });
      case MORE_ROUTES.list:
        return get(stack(), path, { token: DEMO_TOKEN });
      case MORE_ROUTES.cancel:
        return createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` }).then((r) =>
          postJson(stack(), path, cancelBody({ id: r.id })),
        );
      default:
        throw new Error(`no working request for ${route}`);
    }
  };

  it.each(PATHS)('%s/ (a trailing slash)', async (route) => {
    // The exact path works (the control), so a 404 below is the slash's.
    const exact = await working(route, '');
    expect(exact.status, exact.text).toBe(200);
    expectEnvelope(await working(route, '/'), 404, 'NOT_FOUND');
  });

  it.each(PATHS)('%s// (two trailing slashes)', async (route) => {
    expectEnvelope(await working(route, '//'), 404, 'NOT_FOUND');
  });
});

describe('a query parameter given twice is 400 INVALID_REQUEST', () => {
  let first: CrmRequest;
  let second: CrmRequest;
  beforeAll(async () => {
    first = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
    second = await createRequest(stack(), KNOWN_CARD, { scheduled_date: `${dayFromNow(1)}T12:00:00Z` });
  });

  it('show with two identifiers answers neither request', async () => {
    const [one, other] = [`id=${first.id}`, `id=${second.id}`];
    const reply = await get(stack(), ROUTES.show, { token: DEMO_TOKEN, provisioning_request_identifier: [one, other] });
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
    expect(reply.body?.status.description).toContain('provisioning_request_identifier');
    // The identifier once answers (the control).
    const once = await get(stack(), ROUTES.show, { token: DEMO_TOKEN, provisioning_request_identifier: other });
    expect(once.body?.data).toMatchObject({ id: second.id });
  });

  it.each([
    ['offset', '0', '1'],
    ['number_of_results', '1', '2'],
    ['life_cycle_state', 'PENDING', 'COMPLETED'],
    ['offset', '0', '0'],
  ])('list with %s=%s and again =%s', async (name, one, other) => {
    const reply = await get(stack(), MORE_ROUTES.list, { token: DEMO_TOKEN, [name]: [one, other] });
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
    expect(reply.body?.status.description).toContain(name);
    expect((await list({ token: DEMO_TOKEN, [name]: other })).status).toBe(200);
  });

  it('a repeated token is the request’s shape, judged before the token (SPEC §2.5 order)', async () => {
    const reply = await get(stack(), MORE_ROUTES.list, { token: [UNKNOWN_TOKEN, DEMO_TOKEN] });
    expectEnvelope(reply, 400, 'INVALID_REQUEST');
    expect(reply.body?.status.description).toContain('token');
  });
});

describe('a create is judged on one Idempotency-Key and on its body only', () => {
  const POSTS = [ROUTES.login, ROUTES.release, ROUTES.clearPin, MORE_ROUTES.cancel];

  it('two Idempotency-Key headers are 400 INVALID_VALUE and create nothing; either key alone creates', async () => {
    const [one, other] = [`twice-a-${Date.now()}`, `twice-b-${Date.now()}`];
    const before = await requestCount();
    for (const rawHeaders of [
      ['content-type', 'application/json', 'Idempotency-Key', one, 'Idempotency-Key', other],
      ['content-type', 'application/json', 'Idempotency-Key', one, 'idempotency-key', one],
    ]) {
      const reply = await rawRequest(stack(), {
        path: ROUTES.clearPin,
        rawHeaders,
        body: Buffer.from(JSON.stringify(seedBody())),
      });
      expectEnvelope(reply, 400, 'INVALID_VALUE');
      expect(reply.body?.status.description).toContain('Idempotency-Key');
    }
    expect(await requestCount()).toBe(before);
    // Each key alone is taken (the control), and makes its own request.
    const first = await clearPin(seedBody(), { 'Idempotency-Key': one });
    const second = await clearPin(seedBody(), { 'Idempotency-Key': other });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body?.data.id).not.toBe(second.body?.data.id);
  });

  it.each(POSTS)('POST %s with a query string is 400 UNKNOWN_PARAMETER and changes nothing', async (route) => {
    const before = await requestCount();
    const reply = await postJson(stack(), `${route}?process_immediately=1`, seedBody());
    expectEnvelope(reply, 400, 'UNKNOWN_PARAMETER');
    expect(reply.body?.status.description).toContain('process_immediately');
    expect(await requestCount()).toBe(before);
  });

  it('the same create without the query string is taken (the control)', async () => {
    expect((await postJson(stack(), ROUTES.clearPin, seedBody())).status).toBe(200);
  });
});

describe('show by number finds only provisioning requests', () => {
  let request: CrmRequest;
  /** Subscriptions numbered like the next requests will be, loaded before those requests exist. */
  let numbered: string[];
  const NEVER_A_REQUEST = '987654321';

  beforeAll(async () => {
    const probe = await createRequest(stack(), KNOWN_CARD);
    const next = Number(probe.number) + 1;
    numbered = Array.from({ length: 3 }, (_, i) => String(next + i));
    const hex = (n: number, tag: string) => `${tag}${String(n).padStart(32 - tag.length, '0')}`;
    await loadReferenceData(stack().document, stack().tableName, {
      organisations: [
        {
          name: DEMO,
          units: [],
          users: [],
          subscriptions: [...numbered, NEVER_A_REQUEST].map((number, i) => ({
            id: hex(i, 'ABCD'),
            number,
            installed_items: [
              {
                id: hex(i, 'DCBA'),
                serial_number: `numbered-${number}`,
                classification: 'SMARTCARD' as const,
                provisioning_provider: 'NAGRAVISION',
                smartcard_ca_id: KNOWN_CARD.caId,
              },
            ],
          })),
        },
      ],
    });
    // The next request, on the subscription that carries its number.
    const reply = await clearPin({
      token: DEMO_TOKEN,
      subscription_identifier: { number: numbered[0] },
      smartcard_identifier: { serial_number: `numbered-${numbered[0]}` },
      scheduled_date: `${dayFromNow(1)}T12:00:00Z`,
    });
    expect(reply.status, reply.text).toBe(200);
    request = reply.body?.data;
    // Only this file creates requests on this stack, and nothing created one in between.
    expect(request.number, 'the request took the number of the subscription it is on').toBe(numbered[0]);
  });

  it('number=N answers the request numbered N, not the subscription numbered N', async () => {
    const shown = await show(stack(), `number=${request.number}`);
    expect(shown.status, shown.text).toBe(200);
    expect(shown.body?.data).toEqual(request);
  });

  it('with fields_set too', async () => {
    const shown = await get(stack(), ROUTES.show, {
      token: DEMO_TOKEN,
      provisioning_request_identifier: `number=${request.number}`,
      fields_set: 'id,number,type',
    });
    expect(shown.body?.data).toEqual({ number: request.number, type: 'CLEAR_CA_PIN', id: request.id });
  });

  it('a number that only a subscription carries is PROVISIONING_REQUEST_NOT_FOUND', async () => {
    expectEnvelope(await show(stack(), `number=${NEVER_A_REQUEST}`), 404, 'PROVISIONING_REQUEST_NOT_FOUND');
    expectEnvelope(await show(stack(), `number=${KNOWN_CARD.subscription}`), 404, 'PROVISIONING_REQUEST_NOT_FOUND');
  });

  it('cancel by number finds the request too', async () => {
    const cancelled = await postJson(stack(), MORE_ROUTES.cancel, cancelBody({ number: request.number }));
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body?.data).toMatchObject({
      id: request.id,
      life_cycle_state: 'REJECTED',
      error_code: 'CANCELLED',
    });
  });
});

describe('while DynamoDB is down', () => {
  beforeAll(async () => {
    await stack().interruptDynamo();
  });
  afterAll(async () => {
    await stack().resumeDynamo();
  });

  it.each([
    ['login', () => login(stack())],
    ['release', () => postJson(stack(), ROUTES.release, { token: DEMO_TOKEN })],
    ['clear_pin', () => clearPin(seedBody())],
    ['show', () => show(stack(), 'number=1')],
    ['list', () => list({ token: DEMO_TOKEN })],
    ['cancel', () => postJson(stack(), MORE_ROUTES.cancel, cancelBody({ number: '1' }))],
  ])('%s is 503 with Retry-After and no-store', async (_route, send) => {
    const reply = await send();
    expectEnvelope(reply, 503, 'SERVICE_UNAVAILABLE');
    expect(reply.headers.get('retry-after')).toMatch(RETRY_AFTER);
  });
});
