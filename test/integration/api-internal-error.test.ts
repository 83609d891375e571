import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { outputOf } from '../helpers/capture.ts';
import { DEMO_TOKEN, seedBody } from '../helpers/demo.ts';
import { get, postJson, ROUTES } from '../helpers/http.ts';
import { CORRELATION_ID } from '../helpers/oracle.ts';
import { unreadableRequestItem } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * SPEC §2.5 500: a bug answers INTERNAL_ERROR with a correlation id that is also in the log, and no stack trace.
 * No client input reaches a bug any more (the long identifiers that did are now 400s), so the bug is provoked
 * the other honest way, without mocks: a stored request that the code cannot read (its creation date is not a
 * date), as a faulty migration or a hand edit would leave it.
 */

const stack = useLocalStack({ processing: false });
const CORRUPT_ID = 'BADBADBADBADBADBADBADBADBADBAD00';
const showWith = (query: Record<string, string>) => get(stack(), ROUTES.show, query);

beforeAll(async () => {
  const good = (await postJson(stack(), ROUTES.clearPin, seedBody())).body?.data;
  await stack().document.send(
    new PutCommand({
      TableName: stack().tableName,
      Item: unreadableRequestItem(CORRUPT_ID, 'CRMDEMO', '900001', good, { numberKey: 'CRMDEMO#900001' }),
    }),
  );
});

describe('a bug', () => {
  it('answers 500 INTERNAL_ERROR in the envelope, with a correlation id and no stack trace', async () => {
    const { result: response } = await outputOf(() =>
      showWith({ token: DEMO_TOKEN, provisioning_request_identifier: `id=${CORRUPT_ID}` }),
    );
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      status: { code: 'INTERNAL_ERROR', message: expect.any(String), description: expect.any(String) },
      data: null,
    });
    expect(response.body?.status.message.length).toBeGreaterThan(0);
    expect(response.body?.status.description).toMatch(CORRELATION_ID);
    expect(response.text).not.toMatch(/RangeError|Invalid time|\n\s+at |node_modules|\.ts:\d+/);
  });

  it('is logged with the same correlation id as the response carries', async () => {
    const { result: response, output } = await outputOf(() =>
      showWith({ token: DEMO_TOKEN, provisioning_request_identifier: 'number=900001' }),
    );
    expect(response.status).toBe(500);
    const correlationId = response.body?.status.description as string;
    const logLine = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.correlationId === correlationId);
    expect(logLine).toMatchObject({ level: 'ERROR', correlationId });
    expect(JSON.stringify(logLine)).toContain('RangeError');
  });

  it('gives each failure its own correlation id', async () => {
    const query = { token: DEMO_TOKEN, provisioning_request_identifier: `id=${CORRUPT_ID}` };
    const { result } = await outputOf(() => Promise.all([showWith(query), showWith(query)]));
    expect(result[0].body?.status.description).not.toBe(result[1].body?.status.description);
  });

  it('does not affect other requests', async () => {
    const response = await postJson(stack(), ROUTES.clearPin, seedBody());
    expect(response.status).toBe(200);
  });
});
