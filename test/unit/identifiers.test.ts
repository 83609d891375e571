import { describe, expect, it } from 'vitest';
import {
  derivedId,
  ID_PATTERN,
  MAX_IDENTIFIER_LENGTH,
  newId,
  parseQueryIdentifier,
} from '../../functions/domain/identifiers.ts';
import { identifierValue } from '../../functions/domain/validation.ts';

describe('ids', () => {
  it('are 32 uppercase hex characters', () => {
    for (let i = 0; i < 100; i++) expect(newId()).toMatch(/^[0-9A-F]{32}$/);
  });

  it('are not repeated', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newId));
    expect(ids.size).toBe(10_000);
  });

  it('ID_PATTERN takes CRM.COM ids and refuses lowercase, short and long ones', () => {
    expect(ID_PATTERN.test('D62E639909C64F648AF480C66BF59FF9')).toBe(true);
    expect(ID_PATTERN.test('d62e639909c64f648af480c66bf59ff9')).toBe(false);
    expect(ID_PATTERN.test('D62E639909C64F648AF480C66BF59FF')).toBe(false);
    expect(ID_PATTERN.test('D62E639909C64F648AF480C66BF59FF90')).toBe(false);
    expect(ID_PATTERN.test('G62E639909C64F648AF480C66BF59FF9')).toBe(false);
  });
});

describe('derivedId', () => {
  it('is a CRM.COM id, the same for the same parts', () => {
    expect(derivedId('a', 'b')).toMatch(ID_PATTERN);
    expect(derivedId('a', 'b')).toBe(derivedId('a', 'b'));
  });

  it('differs when the parts differ, even when their concatenation is the same', () => {
    expect(derivedId('ab', 'c')).not.toBe(derivedId('a', 'bc'));
    expect(derivedId('a')).not.toBe(derivedId('b'));
  });
});

describe('parseQueryIdentifier (CRM.COM ?x_identifier=field=value)', () => {
  const FIELDS = ['id', 'number'] as const;

  it('reads number=18579 and id=<ID>', () => {
    expect(parseQueryIdentifier('number=18579', FIELDS)).toEqual({ field: 'number', value: '18579' });
    expect(parseQueryIdentifier('id=D62E639909C64F648AF480C66BF59FF9', FIELDS)).toEqual({
      field: 'id',
      value: 'D62E639909C64F648AF480C66BF59FF9',
    });
  });

  it('keeps an = inside the value', () => {
    expect(parseQueryIdentifier('number=a=b', FIELDS)).toEqual({ field: 'number', value: 'a=b' });
  });

  it.each(['18579', '=18579', 'number=', 'serial_number=18579', 'NUMBER=18579', ''])('refuses %j', (raw) => {
    expect(parseQueryIdentifier(raw, FIELDS)).toBeUndefined();
  });
});

describe('identifier values', () => {
  it(`take up to ${MAX_IDENTIFIER_LENGTH} characters`, () => {
    expect(identifierValue.safeParse('x'.repeat(MAX_IDENTIFIER_LENGTH)).success).toBe(true);
    expect(identifierValue.safeParse('x'.repeat(MAX_IDENTIFIER_LENGTH + 1)).success).toBe(false);
  });

  it('are short enough that any key built from two of them stays within DynamoDB’s 2,048 bytes', () => {
    // The longest key: USER#<organisation>#<username>, each of up to 3 UTF-8 bytes per UTF-16 unit.
    expect(6 + 2 * MAX_IDENTIFIER_LENGTH * 3).toBeLessThanOrEqual(2048);
  });
});
