import { describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/domain/errors.ts';
import { selectFields } from '../../functions/domain/fields-set.ts';
import { toCrmView } from '../../functions/domain/provisioning-request.ts';
import { parseShowQuery } from '../../functions/domain/show-query.ts';
import { SEED_DATA, seedRequest } from '../helpers/seed.ts';

const TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';

const refusal = (query: Record<string, unknown>): ApiError => {
  try {
    parseShowQuery(query);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('the show query', () => {
  it('reads provisioning_request_identifier=number=18579', () => {
    expect(parseShowQuery({ token: TOKEN, provisioning_request_identifier: 'number=18579' })).toEqual({
      identifier: { field: 'number', value: '18579' },
    });
  });

  it('reads provisioning_request_identifier=id=<ID>', () => {
    expect(
      parseShowQuery({ token: TOKEN, provisioning_request_identifier: 'id=D62E639909C64F648AF480C66BF59FF9' })
        .identifier,
    ).toEqual({ field: 'id', value: 'D62E639909C64F648AF480C66BF59FF9' });
  });

  it('refuses a missing identifier as MISSING_PARAMETER', () => {
    const error = refusal({ token: TOKEN });
    expect(error.code).toBe('MISSING_PARAMETER');
    expect(error.description).toContain('provisioning_request_identifier');
  });

  it.each(['18579', 'name=x', 'number=', '=18579'])('refuses the identifier %j as INVALID_IDENTIFIER', (raw) => {
    expect(refusal({ token: TOKEN, provisioning_request_identifier: raw }).code).toBe('INVALID_IDENTIFIER');
  });

  it('refuses an identifier value too long to be looked up', () => {
    const error = refusal({ token: TOKEN, provisioning_request_identifier: `id=${'A'.repeat(3000)}` });
    expect(error.code).toBe('INVALID_VALUE');
  });

  it('refuses an unknown query parameter as UNKNOWN_PARAMETER naming it', () => {
    const error = refusal({ token: TOKEN, provisioning_request_identifier: 'number=1', fields: 'id' });
    expect(error.code).toBe('UNKNOWN_PARAMETER');
    expect(error.description).toContain('fields');
  });

  it('reads fields_set as a comma-separated list, spaces allowed', () => {
    expect(
      parseShowQuery({ token: TOKEN, provisioning_request_identifier: 'number=1', fields_set: 'id, number' }).fields,
    ).toEqual(['id', 'number']);
  });

  it('refuses a fields_set naming a field the request does not have', () => {
    const error = refusal({ token: TOKEN, provisioning_request_identifier: 'number=1', fields_set: 'id,pin' });
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.description).toContain('pin');
  });
});

describe('selectFields', () => {
  const view = toCrmView(seedRequest(), 'UTC');

  it('keeps everything without fields_set', () => {
    expect(selectFields(view, undefined)).toEqual(view);
  });

  it('keeps only the fields asked for, in CRM.COM’s order', () => {
    const selected = selectFields(view, ['life_cycle_state', 'number', 'id']);
    expect(Object.keys(selected)).toEqual(['number', 'life_cycle_state', 'id']);
    expect(selected).toEqual({ number: '18579', life_cycle_state: 'PENDING', id: SEED_DATA.id });
  });
});
