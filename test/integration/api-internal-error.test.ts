import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import { type ApiClient, apiClient, CLEAR_PIN_PATH, DEMO_TOKEN, SHOW_PATH, seedBody } from '../helpers/api-client.ts';

/**
 * SPEC §2.5 500: a bug answers INTERNAL_ERROR with a correlation id that is also in the log, and no stack trace.
 * No client input reaches a bug any more (the long identifiers that did are now 400s), so the bug is provoked
 * the other honest way, without mocks: a stored request that the code cannot read (its creation date is not a
 * date), as a faulty migration or a hand edit would leave it.
 */

let stack: LocalStack;
let api: ApiClient;
const CORRUPT_ID = 'BADBADBADBADBADBADBADBADBADBAD00';

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, processing: false });
  api = apiClient(stack.apiUrl);
  const good = (await api.post(CLEAR_PIN_PATH, seedBody())).body.data;
  await stack.document.send(
    new PutCommand({
      TableName: stack.tableName,
      Item: {
        pk: `REQ#${CORRUPT_ID}`,
        id: CORRUPT_ID,
        number: '900001',
        priority: 'REGULAR',
        processImmediately: false,
        scheduledAt: new Date().toISOString(),
        createdAt: 'yesterday',
        updatedAt: 'yesterday',
        lifeCycleState: 'PENDING',
        parameters: good.parameters_set,
        createdByUser: good.log_information.created_by_user,
        createdByUnit: good.log_information.created_by_unit,
        updatedByUser: good.log_information.updated_by_user,
        updatedByUnit: good.log_information.updated_by_unit,
        attempts: 0,
      },
    }),
  );
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything written to stdout and stderr while `work` runs (Powertools logs there, as in Lambda). */
const captureOutput = async <T>(work: () => Promise<T>): Promise<{ result: T; output: string }> => {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { result: await work(), output: chunks.join('') };
  } finally {
    vi.restoreAllMocks();
  }
};

describe('a bug', () => {
  it('answers 500 INTERNAL_ERROR in the envelope, with a correlation id and no stack trace', async () => {
    const { result: response } = await captureOutput(() =>
      api.get(SHOW_PATH, { token: DEMO_TOKEN, provisioning_request_identifier: `id=${CORRUPT_ID}` }),
    );
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      status: { code: 'INTERNAL_ERROR', message: expect.any(String), description: expect.any(String) },
      data: null,
    });
    expect(response.body.status.message.length).toBeGreaterThan(0);
    expect(response.body.status.description).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.text).not.toMatch(/RangeError|Invalid time|\n\s+at |node_modules|\.ts:\d+/);
  });

  it('is logged with the same correlation id as the response carries', async () => {
    const { result: response, output } = await captureOutput(() =>
      api.get(SHOW_PATH, { token: DEMO_TOKEN, provisioning_request_identifier: 'number=900001' }),
    );
    expect(response.status).toBe(500);
    const correlationId = response.body.status.description as string;
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
    const { result } = await captureOutput(() => Promise.all([api.get(SHOW_PATH, query), api.get(SHOW_PATH, query)]));
    expect(result[0].body.status.description).not.toBe(result[1].body.status.description);
  });

  it('does not affect other requests', async () => {
    const response = await api.post(CLEAR_PIN_PATH, seedBody());
    expect(response.status).toBe(200);
  });
});
