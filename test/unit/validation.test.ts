import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../../functions/domain/errors.ts';
import { parseOrThrow, withCode } from '../../functions/domain/validation.ts';

const schema = z.strictObject({
  name: z.string(),
  count: z.number().optional(),
  nested: z.strictObject({ inner: z.string() }).optional(),
  colour: z.enum(['RED', 'BLUE']).optional(),
  code: z
    .string()
    .refine((s) => s.startsWith('C'), { error: 'must start with C', ...withCode('INVALID_IDENTIFIER') })
    .optional(),
  when: z
    .string()
    .refine((s) => s === 'now', { error: 'must be now', ...withCode('INVALID_DATE') })
    .optional(),
});

const refusal = (input: unknown): ApiError => {
  try {
    parseOrThrow(schema, input);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('parseOrThrow', () => {
  it('answers the parsed value when it is valid', () => {
    expect(parseOrThrow(schema, { name: 'n', count: 2 })).toEqual({ name: 'n', count: 2 });
  });

  it('maps an absent required field to MISSING_PARAMETER naming it', () => {
    const error = refusal({});
    expect(error.code).toBe('MISSING_PARAMETER');
    expect(error.status).toBe(400);
    expect(error.description).toBe('name is mandatory');
    expect(error.message).not.toBe('');
  });

  it('maps an unknown field to UNKNOWN_PARAMETER naming it, nested ones with their path', () => {
    expect(refusal({ name: 'n', nmae: 'x' }).description).toBe('nmae is not a parameter of this method');
    const nested = refusal({ name: 'n', nested: { inner: 'i', outer: 'o' } });
    expect(nested.code).toBe('UNKNOWN_PARAMETER');
    expect(nested.description).toContain('nested.outer');
  });

  it('maps a wrong type to INVALID_REQUEST naming the field and the type wanted', () => {
    const error = refusal({ name: 'n', count: 'two' });
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.description).toBe('count must be a number');
    expect(refusal({ name: 'n', nested: 'x' }).description).toBe('nested must be an object');
  });

  it('maps a null required field to INVALID_REQUEST, not MISSING_PARAMETER', () => {
    expect(refusal({ name: null }).code).toBe('INVALID_REQUEST');
  });

  it('maps a value outside an enum to INVALID_VALUE', () => {
    expect(refusal({ name: 'n', colour: 'GREEN' }).code).toBe('INVALID_VALUE');
  });

  it('maps a custom rule to the code it names', () => {
    expect(refusal({ name: 'n', code: 'X' })).toMatchObject({
      code: 'INVALID_IDENTIFIER',
      description: 'code must start with C',
    });
    expect(refusal({ name: 'n', when: 'later' }).code).toBe('INVALID_DATE');
  });

  it('answers one error, the first in the order UNKNOWN, MISSING, INVALID_REQUEST, IDENTIFIER, DATE, VALUE', () => {
    const all = { nmae: 1, count: 'x', code: 'X', when: 'later', colour: 'GREEN' };
    expect(refusal(all).code).toBe('UNKNOWN_PARAMETER');
    const { nmae: _u, ...noUnknown } = all;
    expect(refusal(noUnknown).code).toBe('MISSING_PARAMETER');
    expect(refusal({ ...noUnknown, name: 'n' }).code).toBe('INVALID_REQUEST');
    expect(refusal({ name: 'n', code: 'X', when: 'later', colour: 'GREEN' }).code).toBe('INVALID_IDENTIFIER');
    expect(refusal({ name: 'n', when: 'later', colour: 'GREEN' }).code).toBe('INVALID_DATE');
    expect(refusal({ name: 'n', colour: 'GREEN' }).code).toBe('INVALID_VALUE');
  });

  it('refuses a body that is not an object as INVALID_REQUEST', () => {
    expect(refusal('text').code).toBe('INVALID_REQUEST');
    expect(refusal([]).code).toBe('INVALID_REQUEST');
  });
});

describe('wrong types of enumerated fields', () => {
  it('answers INVALID_REQUEST for an object, array or null where a value is expected', async () => {
    const { parseClearPinBody } = await import('../../functions/domain/clear-pin-body.ts');
    const base = {
      token: 'T',
      subscription_identifier: { number: 'S60507' },
      smartcard_identifier: { serial_number: 'smrt20000054' },
    };
    for (const wrong of [{}, [], null]) {
      for (const field of ['process_immediately', 'priority']) {
        expect(() => parseClearPinBody({ ...base, [field]: wrong }, { timeZone: 'UTC', now: new Date() })).toThrow(
          expect.objectContaining({ code: 'INVALID_REQUEST', description: expect.stringContaining(field) }),
        );
      }
    }
  });
});
