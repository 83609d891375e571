import { describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/domain/errors.ts';
import { parseListQuery } from '../../functions/domain/list-query.ts';

/** SPEC §2.6's query rules, read from the text of SPEC (the expected values below restate it on purpose). */

const TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';
const UTC = { timeZone: 'UTC' };
/** A zone without daylight saving and with a half-hour offset (UTC+05:30), so day and second edges are not UTC's. */
const KOLKATA = { timeZone: 'Asia/Kolkata' };

const parse = (query: Record<string, string>, options = UTC) => parseListQuery({ token: TOKEN, ...query }, options);

const refusal = (query: Record<string, string>, options = UTC): ApiError => {
  try {
    parse(query, options);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
};

describe('the list query: paging', () => {
  it('defaults to 50 results from offset 0 (SPEC §2.6)', () => {
    expect(parse({})).toMatchObject({ limit: 50, offset: 0 });
  });

  it.each(['1', '7', '50'])('takes number_of_results=%s', (n) => {
    expect(parse({ number_of_results: n }).limit).toBe(Number(n));
  });

  it.each(['0', '51', '-1', 'x', '1.5', '', ' 5', '1e1', '0x10'])(
    'refuses number_of_results=%j as INVALID_VALUE',
    (n) => {
      const error = refusal({ number_of_results: n });
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.description).toContain('number_of_results');
    },
  );

  it.each(['0', '1', '9999', '10000'])('takes offset=%s', (n) => {
    expect(parse({ offset: n }).offset).toBe(Number(n));
  });

  it.each(['10001', '-1', 'x', '', '100000'])('refuses offset=%j as INVALID_VALUE', (n) => {
    const error = refusal({ offset: n });
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.description).toContain('offset');
  });
});

describe('the list query: filters', () => {
  it.each(['PENDING', 'COMPLETED', 'REJECTED'])('takes life_cycle_state=%s', (state) => {
    expect(parse({ life_cycle_state: state }).state).toBe(state);
  });

  it.each(['pending', 'CANCELLED', 'FINAL', ''])('refuses life_cycle_state=%j as INVALID_VALUE', (state) => {
    expect(refusal({ life_cycle_state: state }).code).toBe('INVALID_VALUE');
  });

  it.each(['REGULAR', 'EXPRESS'])('takes priority=%s', (priority) => {
    expect(parse({ priority }).priority).toBe(priority);
  });

  it.each(['LOW', 'express', ''])('refuses priority=%j as INVALID_VALUE', (priority) => {
    expect(refusal({ priority }).code).toBe('INVALID_VALUE');
  });

  it.each([
    ['id=F5D3986886C979E7ECAB2E7C63684311', { field: 'id', value: 'F5D3986886C979E7ECAB2E7C63684311' }],
    ['number=S60507', { field: 'number', value: 'S60507' }],
    // Only the first `=` separates the field from the value.
    ['number=A=B', { field: 'number', value: 'A=B' }],
  ])('reads subscription_identifier=%s', (text, expected) => {
    expect(parse({ subscription_identifier: text }).subscription).toEqual(expected);
  });

  it.each([
    ['id=DAAEF64FDDCF3BF558D1BC34B8B1CB62', { field: 'id', value: 'DAAEF64FDDCF3BF558D1BC34B8B1CB62' }],
    ['serial_number=smrt20000054', { field: 'serial_number', value: 'smrt20000054' }],
    ['alternative_code=ALT20000054', { field: 'alternative_code', value: 'ALT20000054' }],
  ])('reads smartcard_identifier=%s', (text, expected) => {
    expect(parse({ smartcard_identifier: text }).smartcard).toEqual(expected);
  });

  it.each([
    ['subscription_identifier', 'S60507'],
    ['subscription_identifier', 'number='],
    ['subscription_identifier', '=S60507'],
    ['subscription_identifier', 'serial_number=smrt20000054'],
    ['subscription_identifier', ''],
    ['smartcard_identifier', 'number=S60507'],
    ['smartcard_identifier', 'id='],
    ['smartcard_identifier', 'smrt20000054'],
  ])('refuses %s=%j as INVALID_IDENTIFIER', (name, text) => {
    const error = refusal({ [name]: text });
    expect(error.code).toBe('INVALID_IDENTIFIER');
    expect(error.description).toContain(name);
  });

  it('refuses an unknown parameter as UNKNOWN_PARAMETER naming it (a typo is not ignored)', () => {
    const error = refusal({ life_cycle_status: 'PENDING' });
    expect(error.code).toBe('UNKNOWN_PARAMETER');
    expect(error.description).toContain('life_cycle_status');
  });
});

describe('the list query: creation dates (inclusive; the formats of scheduled_date)', () => {
  it('reads created_date_from as the instant it names, in each accepted format', () => {
    const instant = Date.parse('2026-03-04T10:20:30Z');
    expect(parse({ created_date_from: '2026-03-04T10:20:30' }).from?.getTime()).toBe(instant);
    expect(parse({ created_date_from: '2026-03-04T10:20:30Z' }).from?.getTime()).toBe(instant);
    expect(parse({ created_date_from: '2026-03-04T12:20:30+02:00' }).from?.getTime()).toBe(instant);
    expect(parse({ created_date_from: '2026-03-04T12:20:30+0200' }).from?.getTime()).toBe(instant);
    expect(parse({ created_date_from: '2026-03-04' }).from?.getTime()).toBe(Date.parse('2026-03-04T00:00:00Z'));
  });

  it('reads the operator-zone forms in the operator zone', () => {
    expect(parse({ created_date_from: '2026-03-04T10:20:30' }, KOLKATA).from?.getTime()).toBe(
      Date.parse('2026-03-04T10:20:30+05:30'),
    );
    expect(parse({ created_date_from: '2026-03-04' }, KOLKATA).from?.getTime()).toBe(
      Date.parse('2026-03-04T00:00:00+05:30'),
    );
    // A zone-qualified instant means itself, whatever the operator zone.
    expect(parse({ created_date_from: '2026-03-04T10:20:30Z' }, KOLKATA).from?.getTime()).toBe(
      Date.parse('2026-03-04T10:20:30Z'),
    );
  });

  it('makes a date-only created_date_to cover its whole day in the operator zone', () => {
    expect(parse({ created_date_to: '2026-03-04' }).until?.getTime()).toBe(Date.parse('2026-03-05T00:00:00Z'));
    expect(parse({ created_date_to: '2026-03-04' }, KOLKATA).until?.getTime()).toBe(
      Date.parse('2026-03-05T00:00:00+05:30'),
    );
    // Month and year ends roll over.
    expect(parse({ created_date_to: '2026-02-28' }).until?.getTime()).toBe(Date.parse('2026-03-01T00:00:00Z'));
    expect(parse({ created_date_to: '2026-12-31' }).until?.getTime()).toBe(Date.parse('2027-01-01T00:00:00Z'));
  });

  it('makes a created_date_to with a time cover its whole second, in every form', () => {
    const end = Date.parse('2026-03-04T10:20:31Z');
    expect(parse({ created_date_to: '2026-03-04T10:20:30' }).until?.getTime()).toBe(end);
    expect(parse({ created_date_to: '2026-03-04T10:20:30Z' }).until?.getTime()).toBe(end);
    expect(parse({ created_date_to: '2026-03-04T12:20:30+02:00' }).until?.getTime()).toBe(end);
    expect(parse({ created_date_to: '2026-03-04T06:50:30-0330' }).until?.getTime()).toBe(end);
    expect(parse({ created_date_to: '2026-03-04T15:50:30' }, KOLKATA).until?.getTime()).toBe(end);
  });

  it.each([
    'yesterday',
    '2026-02-30',
    '2026-13-01',
    '2026-03-04T24:00:00',
    '2026-03-04T24:00:00Z',
    '2026-03-04T10:60:00',
    '26-03-04',
    '1969-12-31',
    '1969-12-31T23:59:59Z',
    '2026-03-04 10:20:30',
    '',
  ])('refuses created_date_from / created_date_to %j as INVALID_DATE', (text) => {
    const from = refusal({ created_date_from: text });
    expect(from.code).toBe('INVALID_DATE');
    expect(from.description).toContain('created_date_from');
    expect(refusal({ created_date_to: text }).code).toBe('INVALID_DATE');
  });

  it('does not apply scheduled_date’s 366-day limit to a filter: a far bound is a bound', () => {
    expect(parse({ created_date_to: '2099-12-31T23:59:59' }).until?.getTime()).toBe(Date.parse('2100-01-01T00:00:00Z'));
    expect(parse({ created_date_from: '2099-01-01' }).from?.getTime()).toBe(Date.parse('2099-01-01T00:00:00Z'));
  });
});

describe('the list query: fields_set', () => {
  it('reads a comma-separated list of the request’s fields, spaces allowed', () => {
    expect(parse({ fields_set: 'id, number,life_cycle_state' }).fields).toEqual(['id', 'number', 'life_cycle_state']);
  });

  it('refuses a field the request does not have as INVALID_VALUE naming it', () => {
    const error = refusal({ fields_set: 'id,colour' });
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.description).toContain('colour');
  });
});

describe('the list query: which error answers (SPEC §2.5 order)', () => {
  const wrong = {
    colour: 'red',
    subscription_identifier: 'S60507',
    created_date_from: 'soon',
    priority: 'LOW',
  };

  it('UNKNOWN_PARAMETER before INVALID_IDENTIFIER before INVALID_DATE before INVALID_VALUE', () => {
    expect(refusal(wrong).code).toBe('UNKNOWN_PARAMETER');
    const { colour: _colour, ...noUnknown } = wrong;
    expect(refusal(noUnknown).code).toBe('INVALID_IDENTIFIER');
    const { subscription_identifier: _s, ...noIdentifier } = noUnknown;
    expect(refusal(noIdentifier).code).toBe('INVALID_DATE');
    const { created_date_from: _d, ...noDate } = noIdentifier;
    expect(refusal(noDate).code).toBe('INVALID_VALUE');
  });

  it('a wrong fields_set does not hide a wrong date', () => {
    expect(refusal({ fields_set: 'colour', created_date_to: 'soon' }).code).toBe('INVALID_DATE');
  });

  it('a wrong paging value does not hide a wrong identifier', () => {
    expect(refusal({ number_of_results: '0', smartcard_identifier: 'x' }).code).toBe('INVALID_IDENTIFIER');
  });
});
