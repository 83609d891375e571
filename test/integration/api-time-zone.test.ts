import { describe, expect, it } from 'vitest';
import { formatCrmDate } from '../../functions/domain/dates.ts';
import { seedBody } from '../helpers/demo.ts';
import { postJson, ROUTES, show } from '../helpers/http.ts';
import { readItem } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** Date-times with an operator zone other than UTC (OPERATOR_TIME_ZONE=Europe/Nicosia: UTC+2, UTC+3 in summer). */

const ZONE = 'Europe/Nicosia';
const stack = useLocalStack({ processing: false, env: { OPERATOR_TIME_ZONE: ZONE } });

const create = (overrides: Record<string, unknown> = {}) => postJson(stack(), ROUTES.clearPin, seedBody(overrides));
const stored = async (id: string) => (await readItem(stack(), id)) ?? {};

/** A day within the next year whose date is `month`-`day` (this year's or next year's). */
const nextDate = (month: number, day: number): string => {
  const now = new Date();
  for (const year of [now.getUTCFullYear(), now.getUTCFullYear() + 1]) {
    const candidate = new Date(Date.UTC(year, month - 1, day));
    if (candidate.getTime() > now.getTime() + 2 * 24 * 3600_000) return candidate.toISOString().slice(0, 10);
  }
  throw new Error('unreachable');
};

describe('with the operator zone Europe/Nicosia', () => {
  it('writes the creation date in Nicosia wall-clock time', async () => {
    const before = Date.now();
    const response = await create();
    const created = response.body?.data.log_information.created_date as string;
    const possible = [formatCrmDate(new Date(before), ZONE), formatCrmDate(new Date(), ZONE)];
    expect(created >= (possible[0] as string) && created <= (possible[1] as string)).toBe(true);
    expect(response.body?.data.scheduled_date).toBe(created);
  });

  it('reads a wall-clock scheduled_date in Nicosia time (winter, UTC+2) and writes it back unchanged', async () => {
    const day = nextDate(1, 15);
    const response = await create({ scheduled_date: `${day}T10:00:00` });
    expect(response.status).toBe(200);
    expect(response.body?.data.scheduled_date).toBe(`${day}T10:00:00`);
    expect((await stored(response.body?.data.id)).scheduledAt).toBe(`${day}T08:00:00.000Z`);
  });

  it('reads a wall-clock scheduled_date in Nicosia summer time (UTC+3)', async () => {
    const day = nextDate(7, 15);
    const response = await create({ scheduled_date: `${day}T10:00:00` });
    expect((await stored(response.body?.data.id)).scheduledAt).toBe(`${day}T07:00:00.000Z`);
  });

  it('writes an instant given with Z in Nicosia time', async () => {
    const day = nextDate(7, 15);
    const response = await create({ scheduled_date: `${day}T10:00:00Z` });
    expect(response.body?.data.scheduled_date).toBe(`${day}T13:00:00`);
  });

  it('reads YYYY-MM-DD as midnight in Nicosia', async () => {
    const day = nextDate(1, 15);
    const response = await create({ scheduled_date: day });
    expect(response.body?.data.scheduled_date).toBe(`${day}T00:00:00`);
    expect((await stored(response.body?.data.id)).scheduledAt).toBe(
      new Date(Date.parse(`${day}T00:00:00Z`) - 2 * 3600_000).toISOString(),
    );
  });

  it('places a future request in the due index at its date, and a past one at once', async () => {
    const day = nextDate(1, 15);
    const future = await create({ scheduled_date: `${day}T10:00:00` });
    expect((await stored(future.body?.data.id)).dueAt).toBe(`${day}T08:00:00.000Z`);
    const before = Date.now();
    const past = await create({ scheduled_date: '2015-09-07T17:56:11' });
    expect(past.body?.data.scheduled_date).toBe('2015-09-07T17:56:11');
    const dueAt = Date.parse((await stored(past.body?.data.id)).dueAt as string);
    expect(dueAt).toBeGreaterThanOrEqual(before - 1000);
    expect(dueAt).toBeLessThanOrEqual(Date.now());
  });

  it('shows the dates in Nicosia time too', async () => {
    const day = nextDate(7, 15);
    const created = await create({ scheduled_date: `${day}T23:30:00` });
    const shown = await show(stack(), `id=${created.body?.data.id}`);
    expect(shown.body?.data.scheduled_date).toBe(`${day}T23:30:00`);
    expect(shown.body?.data).toEqual(created.body?.data);
  });
});
