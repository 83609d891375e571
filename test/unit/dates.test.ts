import { describe, expect, it } from 'vitest';
import { formatCrmDate, isValidTimeZone, parseCrmDate } from '../../functions/domain/dates.ts';

const NICOSIA = 'Europe/Nicosia';
const iso = (text: string, zone: string) => parseCrmDate(text, zone)?.toISOString();

describe('parseCrmDate: YYYY-MM-DDTHH:MM:SS in the operator zone', () => {
  it('reads the wall clock of UTC as UTC', () => {
    expect(iso('2026-03-01T10:15:30', 'UTC')).toBe('2026-03-01T10:15:30.000Z');
  });

  it('reads the wall clock of Nicosia in winter (UTC+2) and summer (UTC+3)', () => {
    expect(iso('2026-01-15T12:00:00', NICOSIA)).toBe('2026-01-15T10:00:00.000Z');
    expect(iso('2026-07-01T12:00:00', NICOSIA)).toBe('2026-07-01T09:00:00.000Z');
  });

  it('crosses the spring-forward edge (2026-03-29 03:00 -> 04:00 in Nicosia) without a jump', () => {
    expect(iso('2026-03-29T02:59:59', NICOSIA)).toBe('2026-03-29T00:59:59.000Z');
    expect(iso('2026-03-29T04:00:00', NICOSIA)).toBe('2026-03-29T01:00:00.000Z');
  });

  it('moves a wall time inside the spring-forward gap forward by the gap', () => {
    // 03:30 never shows on Nicosia clocks that night; it is read as 04:30 EEST.
    const instant = parseCrmDate('2026-03-29T03:30:00', NICOSIA);
    expect(instant?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(formatCrmDate(instant as Date, NICOSIA)).toBe('2026-03-29T04:30:00');
  });

  it('reads a wall time shown twice at the fall-back edge as its first occurrence', () => {
    // 2026-10-25: 04:00 EEST becomes 03:00 EET, so 03:00-03:59 is shown twice; the earlier one is meant.
    expect(iso('2026-10-25T03:30:00', NICOSIA)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso('2026-10-25T03:00:00', NICOSIA)).toBe('2026-10-25T00:00:00.000Z');
    expect(iso('2026-10-25T02:59:59', NICOSIA)).toBe('2026-10-24T23:59:59.000Z');
    expect(iso('2026-10-25T04:00:00', NICOSIA)).toBe('2026-10-25T02:00:00.000Z');
  });
});

describe('parseCrmDate: other accepted forms', () => {
  it('takes ISO 8601 with Z as that instant whatever the operator zone', () => {
    expect(iso('2026-03-01T10:00:00Z', NICOSIA)).toBe('2026-03-01T10:00:00.000Z');
    expect(iso('2026-03-01T10:00:00.123Z', NICOSIA)).toBe('2026-03-01T10:00:00.123Z');
    expect(iso('2026-03-01T10:00Z', NICOSIA)).toBe('2026-03-01T10:00:00.000Z');
  });

  it('takes ISO 8601 with an offset, with or without the colon', () => {
    expect(iso('2026-03-01T10:00:00+02:00', 'UTC')).toBe('2026-03-01T08:00:00.000Z');
    expect(iso('2026-03-01T10:00:00+0200', 'UTC')).toBe('2026-03-01T08:00:00.000Z');
    expect(iso('2026-03-01T10:00:00-05:30', 'UTC')).toBe('2026-03-01T15:30:00.000Z');
  });

  it('takes YYYY-MM-DD as the start of that day in the operator zone', () => {
    expect(iso('2026-07-01', 'UTC')).toBe('2026-07-01T00:00:00.000Z');
    expect(iso('2026-07-01', NICOSIA)).toBe('2026-06-30T21:00:00.000Z');
    expect(iso('2026-01-01', NICOSIA)).toBe('2025-12-31T22:00:00.000Z');
  });

  it('knows leap years', () => {
    expect(iso('2028-02-29', 'UTC')).toBe('2028-02-29T00:00:00.000Z');
    expect(iso('2028-02-29T23:59:59', 'UTC')).toBe('2028-02-29T23:59:59.000Z');
  });
});

describe('parseCrmDate: refused forms', () => {
  it.each([
    ['a day that does not exist', '2026-02-30'],
    ['a day that does not exist, with a time', '2026-02-30T10:00:00'],
    ['a day that does not exist, ISO with Z', '2026-02-30T10:00:00Z'],
    ['a day that does not exist, ISO with an offset', '2026-04-31T10:00:00+02:00'],
    ['29 February of a common year', '2027-02-29'],
    ['month 13', '2026-13-01'],
    ['month 00', '2026-00-10'],
    ['hour 24', '2026-01-01T24:00:00'],
    ['hour 24, ISO with Z', '2026-01-01T24:00:00Z'],
    ['hour 24, ISO with an offset', '2026-01-01T24:00:00+02:00'],
    ['minute 60', '2026-01-01T23:60:00'],
    ['second 60', '2026-01-01T23:59:60'],
    ['an offset out of range', '2026-03-01T10:00:00+25:00'],
    ['no zero padding', '2026-3-1'],
    ['a space instead of T', '2026-03-01 10:00:00'],
    ['a time without seconds and without zone', '2026-03-01T10:00'],
    ['a word', 'tomorrow'],
    ['an empty string', ''],
    ['a timestamp', '1767225600'],
  ])('refuses %s (%s)', (_label, text) => {
    expect(parseCrmDate(text, NICOSIA)).toBeUndefined();
  });
});

describe('formatCrmDate', () => {
  it('always writes a four-digit year (SPEC §2.5)', () => {
    expect(formatCrmDate(new Date('0100-01-01T00:00:00Z'), 'UTC')).toBe('0100-01-01T00:00:00');
    expect(formatCrmDate(new Date('0999-12-31T23:59:59Z'), 'UTC')).toBe('0999-12-31T23:59:59');
  });

  it('writes YYYY-MM-DDTHH:MM:SS in the operator zone, without an offset or fraction', () => {
    const instant = new Date('2026-07-01T09:05:07.999Z');
    expect(formatCrmDate(instant, 'UTC')).toBe('2026-07-01T09:05:07');
    expect(formatCrmDate(instant, NICOSIA)).toBe('2026-07-01T12:05:07');
  });

  it('writes midnight as 00, never 24', () => {
    expect(formatCrmDate(new Date('2026-01-01T22:00:00Z'), NICOSIA)).toBe('2026-01-02T00:00:00');
  });

  it('writes both instants of the fall-back hour with the same wall clock', () => {
    expect(formatCrmDate(new Date('2026-10-25T00:30:00Z'), NICOSIA)).toBe('2026-10-25T03:30:00');
    expect(formatCrmDate(new Date('2026-10-25T01:30:00Z'), NICOSIA)).toBe('2026-10-25T03:30:00');
  });

  it('round-trips every hour of a year with DST changes in Nicosia', () => {
    for (let t = Date.UTC(2026, 0, 1, 0, 30); t < Date.UTC(2027, 0, 1); t += 60 * 60_000) {
      const instant = new Date(t);
      const text = formatCrmDate(instant, NICOSIA);
      const back = parseCrmDate(text, NICOSIA) as Date;
      // In the fall-back hour the earlier instant is chosen; it shows the same wall clock.
      expect(formatCrmDate(back, NICOSIA)).toBe(text);
      expect(t - back.getTime() === 0 || t - back.getTime() === 3_600_000).toBe(true);
    }
  });
});

describe('isValidTimeZone', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone(NICOSIA)).toBe(true);
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
  });
});

describe('UTC, read without Intl', () => {
  // Etc/UTC is the same zone through Intl: the fast path must agree with it to the second, both ways.
  const instants = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(1970, 0, 1) + i * 7_919_993_117));
  it.each(instants.map((d) => [d.toISOString()]))('formats and reads %s as Intl does', (iso) => {
    const instant = new Date(iso);
    const text = formatCrmDate(instant, 'UTC');
    expect(text).toBe(formatCrmDate(instant, 'Etc/UTC'));
    expect(parseCrmDate(text, 'UTC')?.getTime()).toBe(parseCrmDate(text, 'Etc/UTC')?.getTime());
  });

  it('is a valid zone, and other spellings still go through Intl', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Etc/UTC')).toBe(true);
    expect(isValidTimeZone('UTC+5')).toBe(false);
  });
});

describe('an invalid instant', () => {
  it.each(['UTC', 'Etc/UTC', 'Asia/Kolkata'])('is an error in %s, never formatted', (zone) => {
    expect(() => formatCrmDate(new Date('yesterday'), zone)).toThrow(RangeError);
  });
});
