/**
 * CRM.COM date-times are written `YYYY-MM-DDTHH:MM:SS` in the operator's time zone, with no offset.
 * Inside the service every instant is a `Date`; these functions convert at the edges.
 */

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
};

/**
 * The zone most stages run in, read without `Intl`: an `Intl.DateTimeFormat` starts ICU (about 10 ms at a cold
 * start) and formats 30 times slower than the UTC getters.
 */
const UTC = 'UTC';

/** True when `timeZone` is an IANA zone name this runtime knows. */
export const isValidTimeZone = (timeZone: string): boolean => {
  if (timeZone === UTC) return true;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
};

const wallClockParts = (instant: Date, timeZone: string): number[] => {
  if (timeZone === UTC) {
    // As Intl does: an invalid date is an error, never "NaN-NaN-…".
    if (Number.isNaN(instant.getTime())) throw new RangeError('Invalid time value');
    return [
      instant.getUTCFullYear(),
      instant.getUTCMonth() + 1,
      instant.getUTCDate(),
      instant.getUTCHours(),
      instant.getUTCMinutes(),
      instant.getUTCSeconds(),
    ];
  }
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number);
};

/** Formats an instant as CRM.COM writes it: `YYYY-MM-DDTHH:MM:SS` in the operator's zone. */
export const formatCrmDate = (instant: Date, timeZone: string): string => {
  const [year = 0, ...rest] = wallClockParts(instant, timeZone);
  const [mo, d, h, mi, s] = rest.map((n) => String(n).padStart(2, '0'));
  // Always four digits (SPEC §2.5): year 100 is 0100, never 100.
  return `${String(year).padStart(4, '0')}-${mo}-${d}T${h}:${mi}:${s}`;
};

const offsetMs = (instant: Date, timeZone: string): number => {
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = wallClockParts(instant, timeZone);
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(instant.getTime() / 1000) * 1000;
};

/** The instant at which the operator's wall clock shows the given time (the earlier one across a DST overlap). */
const fromWallClock = (fields: number[], timeZone: string): Date | undefined => {
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = fields;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(asUtc);
  // Reject rolled-over values such as 2026-02-30 or 24:00:00.
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  // The zone's offsets a day either side; the instants at which one of them shows this wall time are the
  // candidates. In an overlap both do and the earlier wins; in a gap neither does, and the wall time is read
  // with the offset from before the change (so it moves forward by the gap).
  const before = offsetMs(new Date(asUtc - DAY_MS), timeZone);
  const after = offsetMs(new Date(asUtc + DAY_MS), timeZone);
  const shown = [asUtc - before, asUtc - after].filter((t) => offsetMs(new Date(t), timeZone) === asUtc - t);
  return new Date(shown.length > 0 ? Math.min(...shown) : asUtc - before);
};

/**
 * Reads a client-supplied date: `YYYY-MM-DDTHH:MM:SS` (operator zone), ISO 8601 with `Z` or an offset, or
 * `YYYY-MM-DD` (start of that day in the operator zone). Returns undefined when it is none of these.
 */
export const parseCrmDate = (text: string, timeZone: string): Date | undefined => {
  const local = LOCAL_DATE_TIME.exec(text);
  if (local) return fromWallClock(local.slice(1).map(Number), timeZone);
  const day = DATE_ONLY.exec(text);
  if (day) return fromWallClock([...day.slice(1).map(Number), 0, 0, 0], timeZone);
  if (ISO_WITH_ZONE.test(text)) {
    // Date() reads hour 24 as midnight of the next day; SPEC §2.5 refuses it in any form.
    if (Number(text.slice(11, 13)) > 23) return undefined;
    const instant = new Date(text);
    if (Number.isNaN(instant.getTime())) return undefined;
    const datePart = text.slice(0, 10);
    // Date() silently rolls 2026-02-30 over; the calendar date must survive a round trip (in its own offset).
    const [y, mo, d] = datePart.split('-').map(Number);
    const probe = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1));
    if (probe.toISOString().slice(0, 10) !== datePart) return undefined;
    return instant;
  }
  return undefined;
};

export const DAY_MS = 24 * 60 * 60 * 1000;
