import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import { apiClient, CLEAR_PIN_PATH, seedBody, storedRequests } from '../helpers/api-client.ts';

/** 1,000 creates at once through the HTTP front: every one stored, every number distinct. */

const CREATES = 1_000;
const IN_FLIGHT = 100;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, processing: false });
});

afterAll(async () => {
  await stack?.stop();
});

describe(`${CREATES} concurrent creates`, () => {
  const answers: { status: number; code: string; id: string; number: string }[] = [];

  beforeAll(async () => {
    const api = apiClient(stack.apiUrl);
    let next = 0;
    // IN_FLIGHT clients, each sending its next create as soon as its last one is answered.
    const client = async () => {
      while (next < CREATES) {
        const n = next++;
        const response = await api.post(
          CLEAR_PIN_PATH,
          seedBody({ priority: n % 2 === 0 ? 'REGULAR' : 'EXPRESS', process_immediately: n % 3 === 0 }),
        );
        answers.push({
          status: response.status,
          code: response.body?.status?.code,
          id: response.body?.data?.id,
          number: response.body?.data?.number,
        });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, client));
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
    const stored = await storedRequests(stack.document, stack.tableName);
    expect(stored).toHaveLength(CREATES);
    const numbers = new Set(stored.map((item) => item.number));
    expect(numbers.size).toBe(CREATES);
    expect(new Set(stored.map((item) => item.id))).toEqual(new Set(answers.map((a) => a.id)));
  });

  it('are numbered with decimal strings (gaps are allowed, repeats are not)', () => {
    for (const a of answers) expect(a.number).toMatch(/^[1-9]\d*$/);
  });
});
