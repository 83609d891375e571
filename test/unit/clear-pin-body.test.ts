import { describe, expect, it } from 'vitest';
import { commandFingerprint, MAX_SCHEDULE_AHEAD_MS, parseClearPinBody } from '../../functions/domain/clear-pin-body.ts';
import { DAY_MS } from '../../functions/domain/dates.ts';
import { ApiError } from '../../functions/domain/errors.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const UTC = { timeZone: 'UTC', now: NOW };
const NICOSIA = { timeZone: 'Europe/Nicosia', now: NOW };

const body = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  token: 'A7AD3752AC7B48099A80E62C8F0BE565',
  subscription_identifier: { number: 'S60507' },
  smartcard_identifier: { serial_number: 'smrt20000054' },
  ...overrides,
});

/** The catalogue error the body is refused with. */
const refusal = (input: unknown, options = UTC): { code: string; description: string; status: number } => {
  try {
    parseClearPinBody(input, options);
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, description: error.description, status: error.status };
    throw error;
  }
  throw new Error('the body was accepted');
};

describe('the seed body', () => {
  it('gives a REGULAR, not-immediate request with no scheduled date of its own (it is due now)', () => {
    expect(parseClearPinBody(body(), UTC)).toEqual({
      subscription: { field: 'number', value: 'S60507' },
      smartcard: { field: 'serial_number', value: 'smrt20000054' },
      processImmediately: false,
      scheduledAt: undefined,
      priority: 'REGULAR',
    });
  });
});

describe('identifiers: exactly one field', () => {
  it.each([
    [{ id: 'F5D3986886C979E7ECAB2E7C63684311' }, { field: 'id', value: 'F5D3986886C979E7ECAB2E7C63684311' }],
    [{ number: 'S60507' }, { field: 'number', value: 'S60507' }],
  ])('takes subscription_identifier %j', (identifier, expected) => {
    expect(parseClearPinBody(body({ subscription_identifier: identifier }), UTC).subscription).toEqual(expected);
  });

  it.each([
    [{ id: 'DAAEF64FDDCF3BF558D1BC34B8B1CB62' }, 'id'],
    [{ serial_number: 'smrt20000054' }, 'serial_number'],
    [{ alternative_code: 'ALT20000054' }, 'alternative_code'],
  ])('takes smartcard_identifier %j', (identifier, field) => {
    expect(parseClearPinBody(body({ smartcard_identifier: identifier }), UTC).smartcard.field).toBe(field);
  });

  it.each([
    ['subscription_identifier', {}],
    ['subscription_identifier', { id: 'F5D3986886C979E7ECAB2E7C63684311', number: 'S60507' }],
    ['subscription_identifier', { number: '' }],
    ['smartcard_identifier', {}],
    ['smartcard_identifier', { serial_number: 'smrt20000054', alternative_code: 'ALT20000054' }],
    ['smartcard_identifier', { id: 'X', serial_number: 'Y', alternative_code: 'Z' }],
    ['smartcard_identifier', { alternative_code: '' }],
  ])('refuses %s %j with INVALID_IDENTIFIER naming it', (field, identifier) => {
    const error = refusal(body({ [field]: identifier }));
    expect(error.code).toBe('INVALID_IDENTIFIER');
    expect(error.status).toBe(400);
    expect(error.description).toContain(field);
  });

  it('refuses an identifier field the object does not have as UNKNOWN_PARAMETER with its path', () => {
    const error = refusal(body({ subscription_identifier: { code: 'S60507' } }));
    expect(error).toMatchObject({ code: 'UNKNOWN_PARAMETER' });
    expect(error.description).toContain('subscription_identifier.code');
  });

  it.each([
    ['a string', 'S60507'],
    ['an array', [{ number: 'S60507' }]],
    ['null', null],
  ])('refuses an identifier that is %s as INVALID_REQUEST', (_label, value) => {
    expect(refusal(body({ subscription_identifier: value })).code).toBe('INVALID_REQUEST');
  });

  it('refuses an identifier value of the wrong type as INVALID_REQUEST', () => {
    const error = refusal(body({ smartcard_identifier: { serial_number: 20000054 } }));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.description).toContain('smartcard_identifier.serial_number');
  });

  it('refuses an identifier value too long to be looked up, and takes one of the longest length', () => {
    expect(refusal(body({ subscription_identifier: { number: 'S'.repeat(257) } })).code).toBe('INVALID_VALUE');
    expect(
      parseClearPinBody(body({ subscription_identifier: { number: 'S'.repeat(256) } }), UTC).subscription.value,
    ).toHaveLength(256);
  });
});

describe('missing fields', () => {
  it.each(['subscription_identifier', 'smartcard_identifier', 'token'])('refuses a body without %s', (field) => {
    const input = body();
    delete input[field];
    const error = refusal(input);
    expect(error.code).toBe('MISSING_PARAMETER');
    expect(error.description).toContain(field);
  });
});

describe('process_immediately', () => {
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['true', true],
    ['false', false],
  ])('reads %j as %s', (value, expected) => {
    expect(parseClearPinBody(body({ process_immediately: value }), UTC).processImmediately).toBe(expected);
  });

  it('is false when absent', () => {
    expect(parseClearPinBody(body(), UTC).processImmediately).toBe(false);
  });

  it.each([2, -1, 'yes', 'TRUE', '1', ''])('refuses %j as INVALID_VALUE naming process_immediately', (value) => {
    const error = refusal(body({ process_immediately: value }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.description).toContain('process_immediately');
  });
});

describe('scheduled_date', () => {
  it('is left to the request (now) when absent', () => {
    expect(parseClearPinBody(body(), UTC).scheduledAt).toBeUndefined();
  });

  it.each([
    ['1969-12-31T23:59:59Z', 'before 1970'],
    ['0100-01-01', 'before 1970'],
    ['2026-03-10T24:00:00Z', 'ISO 8601'],
    ['2026-03-10T24:00:00+02:00', 'ISO 8601'],
    ['2026-03-10T24:00:00', 'ISO 8601'],
  ])('refuses %s (SPEC §2.5)', (date, why) => {
    const error = refusal(body({ scheduled_date: date }));
    expect(error.code).toBe('INVALID_DATE');
    expect(error.description).toContain(why);
  });

  it('reads YYYY-MM-DDTHH:MM:SS in the operator zone', () => {
    expect(parseClearPinBody(body({ scheduled_date: '2026-07-01T12:00:00' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-07-01T09:00:00Z'),
    );
    expect(parseClearPinBody(body({ scheduled_date: '2026-07-01T12:00:00' }), UTC).scheduledAt).toEqual(
      new Date('2026-07-01T12:00:00Z'),
    );
  });

  it('reads YYYY-MM-DDTHH:MM:SS across the DST change of the operator zone', () => {
    // Nicosia moves from UTC+2 to UTC+3 at 03:00 on 2026-03-29.
    expect(parseClearPinBody(body({ scheduled_date: '2026-03-29T02:30:00' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-03-29T00:30:00Z'),
    );
    expect(parseClearPinBody(body({ scheduled_date: '2026-03-29T04:30:00' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-03-29T01:30:00Z'),
    );
  });

  it('reads ISO 8601 with Z or an offset as that instant, whatever the operator zone', () => {
    expect(parseClearPinBody(body({ scheduled_date: '2026-04-01T10:00:00Z' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-04-01T10:00:00Z'),
    );
    expect(parseClearPinBody(body({ scheduled_date: '2026-04-01T10:00:00+05:00' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-04-01T05:00:00Z'),
    );
  });

  it('reads YYYY-MM-DD as the start of that day in the operator zone', () => {
    expect(parseClearPinBody(body({ scheduled_date: '2026-04-01' }), NICOSIA).scheduledAt).toEqual(
      new Date('2026-03-31T21:00:00Z'),
    );
  });

  it('takes a date in the past as it is (it is due at once)', () => {
    expect(parseClearPinBody(body({ scheduled_date: '2015-09-07T17:56:11' }), UTC).scheduledAt).toEqual(
      new Date('2015-09-07T17:56:11Z'),
    );
  });

  it('takes a date exactly 366 days ahead and refuses one a second later', () => {
    const limit = new Date(NOW.getTime() + MAX_SCHEDULE_AHEAD_MS);
    expect(MAX_SCHEDULE_AHEAD_MS).toBe(366 * DAY_MS);
    expect(parseClearPinBody(body({ scheduled_date: limit.toISOString() }), UTC).scheduledAt).toEqual(limit);
    const error = refusal(body({ scheduled_date: new Date(limit.getTime() + 1000).toISOString() }));
    expect(error.code).toBe('INVALID_DATE');
    expect(error.description).toContain('366 days');
  });

  it('refuses a date more than 366 days ahead in the operator-zone form too', () => {
    expect(refusal(body({ scheduled_date: '2027-03-12T12:00:00' }), NICOSIA).code).toBe('INVALID_DATE');
  });

  it.each(['2026-02-30', '2026-02-30T10:00:00', '2026-02-30T10:00:00Z', '2026-13-01', 'next monday', ''])(
    'refuses %j as INVALID_DATE naming scheduled_date',
    (value) => {
      const error = refusal(body({ scheduled_date: value }));
      expect(error.code).toBe('INVALID_DATE');
      expect(error.description).toContain('scheduled_date');
    },
  );

  it('refuses a date that is not a string as INVALID_REQUEST', () => {
    expect(refusal(body({ scheduled_date: 1767225600 })).code).toBe('INVALID_REQUEST');
  });
});

describe('priority', () => {
  it.each(['REGULAR', 'EXPRESS'] as const)('takes %s', (priority) => {
    expect(parseClearPinBody(body({ priority }), UTC).priority).toBe(priority);
  });

  it('is REGULAR when absent', () => {
    expect(parseClearPinBody(body(), UTC).priority).toBe('REGULAR');
  });

  it.each(['URGENT', 'express', ''])('refuses %j as INVALID_VALUE naming priority', (priority) => {
    const error = refusal(body({ priority }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.description).toContain('priority');
  });
});

describe('unknown fields', () => {
  it('refuses the typo process_immediatelly, naming it, instead of ignoring it', () => {
    const error = refusal(body({ process_immediatelly: true }));
    expect(error).toMatchObject({ code: 'UNKNOWN_PARAMETER', status: 400 });
    expect(error.description).toContain('process_immediatelly');
  });

  it.each(['name', 'scheduledDate', 'fields_set'])('refuses %s', (field) => {
    const error = refusal(body({ [field]: 'x' }));
    expect(error.code).toBe('UNKNOWN_PARAMETER');
    expect(error.description).toContain(field);
  });
});

describe('which error answers when several fields are wrong', () => {
  it('UNKNOWN_PARAMETER before MISSING_PARAMETER', () => {
    expect(refusal({ token: 'T', process_immediatelly: 1 }).code).toBe('UNKNOWN_PARAMETER');
  });

  it('MISSING_PARAMETER before INVALID_REQUEST and INVALID_IDENTIFIER', () => {
    const error = refusal({ token: 'T', subscription_identifier: 'S60507', priority: 'URGENT' });
    expect(error.code).toBe('MISSING_PARAMETER');
    expect(error.description).toContain('smartcard_identifier');
  });

  it('INVALID_REQUEST before INVALID_IDENTIFIER', () => {
    expect(refusal(body({ subscription_identifier: 'S60507', smartcard_identifier: {} })).code).toBe('INVALID_REQUEST');
  });

  it('INVALID_IDENTIFIER before INVALID_DATE', () => {
    expect(refusal(body({ smartcard_identifier: {}, scheduled_date: '2026-02-30' })).code).toBe('INVALID_IDENTIFIER');
  });

  it('INVALID_DATE before INVALID_VALUE', () => {
    expect(refusal(body({ scheduled_date: '2026-02-30', priority: 'URGENT' })).code).toBe('INVALID_DATE');
  });
});

describe('the Idempotency-Key comparison: the parsed command, not the bytes (SPEC §2.3)', () => {
  const print = (overrides: Record<string, unknown>) => commandFingerprint(parseClearPinBody(body(overrides), UTC));

  it('is the same for every spelling of the same request', () => {
    const base = print({ process_immediately: true, scheduled_date: '2026-04-01', priority: 'REGULAR' });
    expect(print({ process_immediately: 'true', scheduled_date: '2026-04-01T00:00:00', priority: 'REGULAR' })).toBe(
      base,
    );
    expect(print({ process_immediately: 1, scheduled_date: '2026-04-01T00:00:00Z' })).toBe(base);
    expect(
      print({ token: 'B7AD3752AC7B48099A80E62C8F0BE565', process_immediately: true, scheduled_date: '2026-04-01' }),
    ).toBe(base);
    expect(print({})).toBe(print({ process_immediately: false, priority: 'REGULAR' }));
  });

  it('differs for any field that changes the request', () => {
    const base = print({});
    for (const overrides of [
      { process_immediately: true },
      { priority: 'EXPRESS' },
      { scheduled_date: '2026-04-01' },
      { subscription_identifier: { id: 'F5D3986886C979E7ECAB2E7C63684311' } },
      { smartcard_identifier: { serial_number: 'smrt20000055' } },
      { smartcard_identifier: { alternative_code: 'smrt20000054' } },
    ]) {
      expect(print(overrides), JSON.stringify(overrides)).not.toBe(base);
    }
  });
});
