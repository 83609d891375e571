import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/local-stack.ts';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  CLEAR_PIN_PATH,
  DEMO_LOGIN,
  DEMO_TOKEN,
  LOGIN_PATH,
  RELEASE_PATH,
  SHOW_PATH,
  seedBody,
  storedRequests,
} from '../helpers/api-client.ts';

/** SPEC §2.5 503: DynamoDB down (connections refused) while the API runs; its data comes back with it. */

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  // The outage is logged at ERROR on every call; silenced here to keep the test output readable.
  stack = await startLocalStack({ port: 0, processing: false, env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  api = apiClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
});

const expectUnavailable = (response: ApiResponse) => {
  expect({ status: response.status, code: response.body.status.code, data: response.body.data }).toEqual({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    data: null,
  });
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(response.body.status.message.length).toBeGreaterThan(0);
  expect(response.text).not.toMatch(/ECONNREFUSED|\n\s+at |node_modules/);
};

describe('while DynamoDB is down', () => {
  const key = `outage-${Date.now()}`;
  let before: number;
  let created: Record<string, unknown>;

  beforeAll(async () => {
    created = (await api.post(CLEAR_PIN_PATH, seedBody())).body.data;
    before = (await storedRequests(stack.document, stack.tableName)).length;
    await stack.interruptDynamo();
  });

  it('a create answers 503 with Retry-After', async () => {
    expectUnavailable(await api.post(CLEAR_PIN_PATH, seedBody()));
  });

  it('a create with an Idempotency-Key answers 503 with Retry-After', async () => {
    expectUnavailable(
      await api.post(CLEAR_PIN_PATH, seedBody({ process_immediately: true }), { 'Idempotency-Key': key }),
    );
  });

  it('login, show and release answer 503 with Retry-After', async () => {
    expectUnavailable(await api.post(LOGIN_PATH, DEMO_LOGIN));
    expectUnavailable(
      await api.get(SHOW_PATH, { token: DEMO_TOKEN, provisioning_request_identifier: `id=${created.id}` }),
    );
    expectUnavailable(await api.post(RELEASE_PATH, { token: DEMO_TOKEN }));
  });

  it('client errors found before any look-up are still answered as such', async () => {
    const response = await api.post(CLEAR_PIN_PATH, 'not json');
    expect(response.status).toBe(400);
  });

  describe('once it is back', () => {
    beforeAll(async () => {
      await stack.resumeDynamo();
    });

    it('nothing was written during the outage', async () => {
      expect(await storedRequests(stack.document, stack.tableName)).toHaveLength(before);
    });

    it('the release that failed did not end the token', async () => {
      const response = await api.get(SHOW_PATH, {
        token: DEMO_TOKEN,
        provisioning_request_identifier: `id=${created.id}`,
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual(created);
    });

    it('the Idempotency-Key of the failed create is free: the retry creates the request once', async () => {
      const retry = await api.post(CLEAR_PIN_PATH, seedBody({ process_immediately: true }), { 'Idempotency-Key': key });
      expect(retry.status).toBe(200);
      const again = await api.post(CLEAR_PIN_PATH, seedBody({ process_immediately: true }), { 'Idempotency-Key': key });
      expect(again.body).toEqual(retry.body);
      expect(await storedRequests(stack.document, stack.tableName)).toHaveLength(before + 1);
    });
  });
});
