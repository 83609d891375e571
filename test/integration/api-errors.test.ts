import { describe, expect, it } from 'vitest';
import { DEMO_LOGIN, DEMO_TOKEN, KNOWN_CARD, OTHER_KNOWN_CARD, seedBody } from '../helpers/demo.ts';
import { get, postJson, type Reply, ROUTES } from '../helpers/http.ts';
import { envelopeProblems } from '../helpers/oracle.ts';
import { storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** SPEC §2.5 over HTTP: every client error with its status and code, and the order in which checks answer. */

const stack = useLocalStack({ processing: false });

const UNKNOWN_TOKEN = '00000000000000000000000000000000';

/**
 * Asserts the error envelope: status, code, a sentence, a description, `data: null`, JSON, no stack trace (all of
 * which envelopeProblems checks), and no exception's name.
 */
const expectError = (response: Reply, status: number, code: string) => {
  expect({ status: response.status, code: response.body?.status?.code }).toEqual({ status, code });
  expect(envelopeProblems(response)).toEqual([]);
  expect(response.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|Exception|TypeError|RangeError/);
};

const clearPin = (body: unknown, headers?: Record<string, string>) => postJson(stack(), ROUTES.clearPin, body, headers);
const showWith = (query: Record<string, string>) => get(stack(), ROUTES.show, query);
const requestCount = async () => (await storedRequests(stack())).size;

describe('400 INVALID_REQUEST', () => {
  it.each([
    ['not JSON', `{"token": "${DEMO_TOKEN}",`],
    ['empty', ''],
    ['an array', `[{"token": "${DEMO_TOKEN}"}]`],
    ['a string', `"${DEMO_TOKEN}"`],
    ['null', 'null'],
    ['a number', '42'],
  ])('when the body is %s', async (_label, body) => {
    const response = await clearPin(body);
    expectError(response, 400, 'INVALID_REQUEST');
    expect(response.body?.status.description).toBe('body');
  });

  it('when a field has the wrong type, naming it', async () => {
    const response = await clearPin(seedBody({ subscription_identifier: KNOWN_CARD.subscription }));
    expectError(response, 400, 'INVALID_REQUEST');
    expect(response.body?.status.description).toContain('subscription_identifier');
  });

  it('when scheduled_date is a number', async () => {
    const response = await clearPin(seedBody({ scheduled_date: 1767225600 }));
    expectError(response, 400, 'INVALID_REQUEST');
    expect(response.body?.status.description).toContain('scheduled_date');
  });

  it('on login and release too', async () => {
    expectError(await postJson(stack(), ROUTES.login, '[]'), 400, 'INVALID_REQUEST');
    expectError(await postJson(stack(), ROUTES.release, 'token'), 400, 'INVALID_REQUEST');
  });
});

describe('400 MISSING_PARAMETER', () => {
  it.each(['subscription_identifier', 'smartcard_identifier'])('without %s, naming it', async (field) => {
    const body = seedBody();
    delete body[field];
    const response = await clearPin(body);
    expectError(response, 400, 'MISSING_PARAMETER');
    expect(response.body?.status.description).toContain(field);
  });

  it('on show without provisioning_request_identifier', async () => {
    const response = await showWith({ token: DEMO_TOKEN });
    expectError(response, 400, 'MISSING_PARAMETER');
    expect(response.body?.status.description).toContain('provisioning_request_identifier');
  });

  it('on login without password or organisation', async () => {
    expectError(
      await postJson(stack(), ROUTES.login, { username: DEMO_LOGIN.username, organisation: DEMO_LOGIN.organisation }),
      400,
      'MISSING_PARAMETER',
    );
    expectError(
      await postJson(stack(), ROUTES.login, { username: DEMO_LOGIN.username, password: DEMO_LOGIN.password }),
      400,
      'MISSING_PARAMETER',
    );
  });
});

describe('400 UNKNOWN_PARAMETER', () => {
  it('for the typo process_immediatelly, naming it, and nothing is created', async () => {
    const before = await requestCount();
    const response = await clearPin(seedBody({ process_immediatelly: true }));
    expectError(response, 400, 'UNKNOWN_PARAMETER');
    expect(response.body?.status.description).toContain('process_immediatelly');
    expect(await requestCount()).toBe(before);
  });

  it('for an unknown field inside an identifier, naming its path', async () => {
    const response = await clearPin(seedBody({ smartcard_identifier: { serial: KNOWN_CARD.serial } }));
    expectError(response, 400, 'UNKNOWN_PARAMETER');
    expect(response.body?.status.description).toContain('smartcard_identifier.serial');
  });

  it('on show for an unknown query parameter', async () => {
    const response = await showWith({
      token: DEMO_TOKEN,
      provisioning_request_identifier: 'number=1',
      fields: 'id',
    });
    expectError(response, 400, 'UNKNOWN_PARAMETER');
    expect(response.body?.status.description).toContain('fields');
  });

  it('on login for an unknown field', async () => {
    const response = await postJson(stack(), ROUTES.login, {
      ...DEMO_LOGIN,
      remember_me: true,
    });
    expectError(response, 400, 'UNKNOWN_PARAMETER');
    expect(response.body?.status.description).toContain('remember_me');
  });
});

describe('400 INVALID_IDENTIFIER', () => {
  it('for an identifier with none of its fields', async () => {
    const response = await clearPin(seedBody({ subscription_identifier: {} }));
    expectError(response, 400, 'INVALID_IDENTIFIER');
    expect(response.body?.status.description).toContain('subscription_identifier');
  });

  it('for an identifier with two of its fields', async () => {
    const response = await clearPin(
      seedBody({
        smartcard_identifier: { serial_number: KNOWN_CARD.serial, alternative_code: KNOWN_CARD.alternativeCode },
      }),
    );
    expectError(response, 400, 'INVALID_IDENTIFIER');
    expect(response.body?.status.description).toContain('smartcard_identifier');
  });

  it('on show for an identifier that is not id=… or number=…', async () => {
    const response = await showWith({ token: DEMO_TOKEN, provisioning_request_identifier: '18579' });
    expectError(response, 400, 'INVALID_IDENTIFIER');
  });
});

describe('400 INVALID_DATE', () => {
  it.each(['2026-02-30', '2026-02-30T10:00:00', '07/09/2015', '2015-09-07T17:56'])(
    'for scheduled_date %j',
    async (scheduled_date) => {
      const response = await clearPin(seedBody({ scheduled_date }));
      expectError(response, 400, 'INVALID_DATE');
      expect(response.body?.status.description).toContain('scheduled_date');
    },
  );

  it('for a scheduled_date more than 366 days ahead', async () => {
    const farAhead = new Date(Date.now() + 367 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const response = await clearPin(seedBody({ scheduled_date: farAhead }));
    expectError(response, 400, 'INVALID_DATE');
    expect(response.body?.status.description).toContain('366');
  });
});

describe('400 INVALID_VALUE', () => {
  it('for a priority other than REGULAR or EXPRESS', async () => {
    const response = await clearPin(seedBody({ priority: 'URGENT' }));
    expectError(response, 400, 'INVALID_VALUE');
    expect(response.body?.status.description).toContain('priority');
  });

  it('for a process_immediately that is not a boolean form', async () => {
    const response = await clearPin(seedBody({ process_immediately: 'yes' }));
    expectError(response, 400, 'INVALID_VALUE');
    expect(response.body?.status.description).toContain('process_immediately');
  });

  it('for a fields_set naming a field the request does not have', async () => {
    const response = await showWith({
      token: DEMO_TOKEN,
      provisioning_request_identifier: 'number=1',
      fields_set: 'id,pin',
    });
    expectError(response, 400, 'INVALID_VALUE');
  });

  it('for an Idempotency-Key longer than 128 characters', async () => {
    const response = await clearPin(seedBody(), { 'Idempotency-Key': 'k'.repeat(129) });
    expectError(response, 400, 'INVALID_VALUE');
    expect(response.body?.status.description).toContain('Idempotency-Key');
  });

  // Identifiers are looked up by exact DynamoDB key, which cannot be over 2,048 bytes: a longer value used to
  // reach DynamoDB and come back as a 500.
  it('for identifiers too long to be looked up, instead of a 500', async () => {
    const long = 'x'.repeat(3000);
    expectError(await clearPin(seedBody({ subscription_identifier: { number: long } })), 400, 'INVALID_VALUE');
    expectError(await clearPin(seedBody({ smartcard_identifier: { serial_number: long } })), 400, 'INVALID_VALUE');
    expectError(
      await showWith({ token: DEMO_TOKEN, provisioning_request_identifier: `id=${long}` }),
      400,
      'INVALID_VALUE',
    );
    expectError(
      await showWith({ token: DEMO_TOKEN, provisioning_request_identifier: `number=${long}` }),
      400,
      'INVALID_VALUE',
    );
    expectError(await postJson(stack(), ROUTES.login, { ...DEMO_LOGIN, username: long }), 400, 'INVALID_VALUE');
    expectError(
      await postJson(stack(), ROUTES.login, {
        username: DEMO_LOGIN.username,
        password: DEMO_LOGIN.password,
        organization: long,
      }),
      400,
      'INVALID_VALUE',
    );
  });
});

describe('401 INVALID_TOKEN', () => {
  it('when the token is missing', async () => {
    const body = seedBody();
    delete body.token;
    expectError(await clearPin(body), 401, 'INVALID_TOKEN');
  });

  it.each([
    ['unknown', UNKNOWN_TOKEN],
    ['empty', ''],
    ['not a string', 42],
  ])('when the token is %s', async (_label, token) => {
    expectError(await clearPin(seedBody({ token })), 401, 'INVALID_TOKEN');
  });

  it('on show and release with an unknown or missing token', async () => {
    expectError(
      await showWith({ token: UNKNOWN_TOKEN, provisioning_request_identifier: 'number=1' }),
      401,
      'INVALID_TOKEN',
    );
    expectError(await showWith({ provisioning_request_identifier: 'number=1' }), 401, 'INVALID_TOKEN');
    expectError(await postJson(stack(), ROUTES.release, { token: UNKNOWN_TOKEN }), 401, 'INVALID_TOKEN');
    expectError(await postJson(stack(), ROUTES.release, {}), 401, 'INVALID_TOKEN');
  });
});

describe('404 not found', () => {
  it('SUBSCRIPTION_NOT_FOUND, naming the identifier', async () => {
    const response = await clearPin(seedBody({ subscription_identifier: { number: 'S99999' } }));
    expectError(response, 404, 'SUBSCRIPTION_NOT_FOUND');
    expect(response.body?.status.description).toContain('S99999');
  });

  it('SUBSCRIPTION_NOT_FOUND by id too', async () => {
    const response = await clearPin(seedBody({ subscription_identifier: { id: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' } }));
    expectError(response, 404, 'SUBSCRIPTION_NOT_FOUND');
  });

  it.each([
    [{ serial_number: 'smrt00000000' }, 'smrt00000000'],
    [{ alternative_code: 'ALT00000000' }, 'ALT00000000'],
    [{ id: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' }, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'],
  ])('SMARTCARD_NOT_FOUND for %j, naming it', async (smartcard_identifier, named) => {
    const response = await clearPin(seedBody({ smartcard_identifier }));
    expectError(response, 404, 'SMARTCARD_NOT_FOUND');
    expect(response.body?.status.description).toContain(named);
  });

  it('PROVISIONING_REQUEST_NOT_FOUND by number and by id', async () => {
    const byNumber = await showWith({ token: DEMO_TOKEN, provisioning_request_identifier: 'number=999999' });
    expectError(byNumber, 404, 'PROVISIONING_REQUEST_NOT_FOUND');
    expect(byNumber.body?.status.description).toContain('999999');
    const byId = await showWith({
      token: DEMO_TOKEN,
      provisioning_request_identifier: 'id=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
    });
    expectError(byId, 404, 'PROVISIONING_REQUEST_NOT_FOUND');
  });

  it('an unknown method is answered in the envelope too', async () => {
    const response = await postJson(stack(), '/nagravision/provisioning_requests/clear_all', seedBody());
    expect(response.status).toBe(404);
    expect(response.body?.data).toBeNull();
    expect(typeof response.body?.status.code).toBe('string');
  });
});

describe('413 PAYLOAD_TOO_LARGE', () => {
  it('for a body over 16 KiB', async () => {
    const response = await clearPin(seedBody({ padding: 'x'.repeat(16 * 1024) }));
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('not for a body of exactly 16 KiB (it gets its field error instead)', async () => {
    const base = JSON.stringify(seedBody({ padding: '' }));
    const response = await clearPin(seedBody({ padding: 'x'.repeat(16 * 1024 - base.length) }));
    expectError(response, 400, 'UNKNOWN_PARAMETER');
  });
});

describe('415 UNSUPPORTED_MEDIA_TYPE', () => {
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'for Content-Type %s',
    async (contentType) => {
      const response = await clearPin(JSON.stringify(seedBody()), { 'Content-Type': contentType });
      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    },
  );

  it('not for application/json with a charset, nor for a request without Content-Type', async () => {
    expect((await clearPin(seedBody(), { 'Content-Type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await clearPin(seedBody(), { 'Content-Type': '' })).status).toBe(200);
  });
});

describe('422 the smartcard cannot be reset on that subscription', () => {
  it('SMARTCARD_NOT_IN_SUBSCRIPTION for S60508’s smartcard asked on S60507', async () => {
    const response = await clearPin(seedBody({ smartcard_identifier: { serial_number: OTHER_KNOWN_CARD.serial } }));
    expectError(response, 422, 'SMARTCARD_NOT_IN_SUBSCRIPTION');
    expect(response.body?.status.description).toContain(OTHER_KNOWN_CARD.serial);
  });

  it('NOT_A_NAGRAVISION_SMARTCARD for the set-top box of S60507', async () => {
    const response = await clearPin(seedBody({ smartcard_identifier: { serial_number: 'stb10000001' } }));
    expectError(response, 422, 'NOT_A_NAGRAVISION_SMARTCARD');
    expect(response.body?.status.description).toContain('stb10000001');
  });

  it('NOT_A_NAGRAVISION_SMARTCARD for the Conax smartcard of S60508', async () => {
    const response = await clearPin(
      seedBody({
        subscription_identifier: { number: 'S60508' },
        smartcard_identifier: { serial_number: 'cnx30000001' },
      }),
    );
    expectError(response, 422, 'NOT_A_NAGRAVISION_SMARTCARD');
    expect(response.body?.status.description).toContain('cnx30000001');
  });
});

describe('the order of the checks: body, then token, then fields, then look-ups', () => {
  it('an oversize body with a bad token: PAYLOAD_TOO_LARGE', async () => {
    const response = await clearPin({ token: UNKNOWN_TOKEN, padding: 'x'.repeat(17 * 1024) });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('an oversize body that is not JSON, sent as text: PAYLOAD_TOO_LARGE (size first)', async () => {
    const response = await clearPin('x'.repeat(17 * 1024), { 'Content-Type': 'text/plain' });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('a text body with a bad token: UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await clearPin(JSON.stringify({ token: UNKNOWN_TOKEN }), { 'Content-Type': 'text/plain' });
    expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('broken JSON: INVALID_REQUEST, whatever token it meant to carry', async () => {
    expectError(await clearPin(`{"token":"${UNKNOWN_TOKEN}"`), 400, 'INVALID_REQUEST');
  });

  it('a bad token and an unknown field: INVALID_TOKEN', async () => {
    const response = await clearPin(seedBody({ token: UNKNOWN_TOKEN, process_immediatelly: true }));
    expectError(response, 401, 'INVALID_TOKEN');
  });

  it('a bad token and every field wrong: INVALID_TOKEN', async () => {
    const response = await clearPin({
      token: UNKNOWN_TOKEN,
      subscription_identifier: {},
      smartcard_identifier: 'x',
      scheduled_date: '2026-02-30',
      priority: 'URGENT',
    });
    expectError(response, 401, 'INVALID_TOKEN');
  });

  it('a bad token and a bad Idempotency-Key: INVALID_TOKEN', async () => {
    const response = await clearPin(seedBody({ token: UNKNOWN_TOKEN }), { 'Idempotency-Key': 'k'.repeat(200) });
    expectError(response, 401, 'INVALID_TOKEN');
  });

  it('a bad token on show with a bad identifier: INVALID_TOKEN', async () => {
    const response = await showWith({ token: UNKNOWN_TOKEN, provisioning_request_identifier: 'x' });
    expectError(response, 401, 'INVALID_TOKEN');
  });

  it('a bad token on release with an unknown field: INVALID_TOKEN', async () => {
    expectError(await postJson(stack(), ROUTES.release, { token: UNKNOWN_TOKEN, extra: 1 }), 401, 'INVALID_TOKEN');
  });

  it('an unknown field and an unknown subscription: UNKNOWN_PARAMETER', async () => {
    const response = await clearPin(
      seedBody({ subscription_identifier: { number: 'S99999' }, process_immediatelly: true }),
    );
    expectError(response, 400, 'UNKNOWN_PARAMETER');
  });

  it('a bad date and a smartcard of another subscription: INVALID_DATE', async () => {
    const response = await clearPin(
      seedBody({ smartcard_identifier: { serial_number: OTHER_KNOWN_CARD.serial }, scheduled_date: '2026-02-30' }),
    );
    expectError(response, 400, 'INVALID_DATE');
  });

  it('an unknown subscription and an unknown smartcard: SUBSCRIPTION_NOT_FOUND', async () => {
    const response = await clearPin(
      seedBody({
        subscription_identifier: { number: 'S99999' },
        smartcard_identifier: { serial_number: 'smrt00000000' },
      }),
    );
    expectError(response, 404, 'SUBSCRIPTION_NOT_FOUND');
  });
});

describe('after all of the above', () => {
  it('only the two accepted requests were stored', async () => {
    // The two 200s of the 415 section; every refused request left nothing behind.
    expect(await requestCount()).toBe(2);
  });
});
