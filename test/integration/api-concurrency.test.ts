import { beforeAll, describe, expect, it } from 'vitest';
import { seedBody } from '../helpers/demo.ts';
import { postJson, ROUTES } from '../helpers/http.ts';
import { runPool } from '../helpers/pool.ts';
import { storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** 1,000 creates at once through the HTTP front: every one stored, every number distinct. */

const CREATES = 1_000;
const IN_FLIGHT = 100;

const stack = useLocalStack({ processing: false });

describe(`${CREATES} concurrent creates`, () => {
  let answers: { status: number; code: string | undefined; id: string; number: string }[] = [];

  beforeAll(async () => {
    // IN_FLIGHT clients, each sending its next create as soon as its last one is answered.
    answers = await runPool(
      Array.from({ length: CREATES }, (_, n) => n),
      IN_FLIGHT,
      async (n) => {
        const response = await postJson(
          stack(),
          ROUTES.clearPin,
          seedBody({ priority: n % 2 === 0 ? 'REGULAR' : 'EXPRESS', process_immediately: n % 3 === 0 }),
        );
        return {
          status: response.status,
          code: response.body?.status?.code,
          id: response.body?.data?.id,
          number: response.body?.data?.number,
        };
      },
    );
  }, 60_000);

  it('are all answered 200 OK', () => {
    expect(answers).toHaveLength(CREATES);
    const failures = answers.filter((a) => a.status !== 200);
    expect(failures).toEqual([]);
  });

  it('are answered with distinct ids and distinct numbers', () => {
    expect(new Set(answers.map((a) => a.id)).size).toBe(CREATES);
    expect(new Set(answers.map((a) => a.number)).size).toBe(CREATES);
  });

  it(`are all stored: ${CREATES} requests with ${CREATES} distinct numbers in the table`, async () => {
    const stored = [...(await storedRequests(stack())).values()];
    expect(stored).toHaveLength(CREATES);
    const numbers = new Set(stored.map((item) => item.number));
    expect(numbers.size).toBe(CREATES);
    expect(new Set(stored.map((item) => item.id))).toEqual(new Set(answers.map((a) => a.id)));
  });

  it('are numbered with decimal strings (gaps are allowed, repeats are not)', () => {
    for (const a of answers) expect(a.number).toMatch(/^[1-9]\d*$/);
  });
});
