import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, seedBody } from '../helpers/demo.ts';
import { login, postJson, ROUTES, show } from '../helpers/http.ts';
import { expectUnavailable } from '../helpers/oracle.ts';
import { storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** SPEC §2.5 503: DynamoDB down (connections refused) while the API runs; its data comes back with it. */

// The outage is logged at ERROR on every call; silenced here to keep the test output readable.
const stack = useLocalStack({ processing: false, env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });

const clearPin = (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  postJson(stack(), ROUTES.clearPin, seedBody(overrides), headers);
const requestCount = async () => (await storedRequests(stack())).size;

describe('while DynamoDB is down', () => {
  const key = `outage-${Date.now()}`;
  let before: number;
  let created: Record<string, unknown>;

  beforeAll(async () => {
    created = (await clearPin()).body?.data;
    before = await requestCount();
    await stack().interruptDynamo();
  });

  it('a create answers 503 with Retry-After', async () => {
    expectUnavailable(await clearPin());
  });

  it('a create with an Idempotency-Key answers 503 with Retry-After', async () => {
    expectUnavailable(await clearPin({ process_immediately: true }, { 'Idempotency-Key': key }));
  });

  it('login, show and release answer 503 with Retry-After', async () => {
    expectUnavailable(await login(stack()));
    expectUnavailable(await show(stack(), `id=${created.id}`));
    expectUnavailable(await postJson(stack(), ROUTES.release, { token: DEMO_TOKEN }));
  });

  it('client errors found before any look-up are still answered as such', async () => {
    const response = await postJson(stack(), ROUTES.clearPin, 'not json');
    expect(response.status).toBe(400);
  });

  describe('once it is back', () => {
    beforeAll(async () => {
      await stack().resumeDynamo();
    });

    it('nothing was written during the outage', async () => {
      expect(await requestCount()).toBe(before);
    });

    it('the release that failed did not end the token', async () => {
      const response = await show(stack(), `id=${created.id}`);
      expect(response.status).toBe(200);
      expect(response.body?.data).toEqual(created);
    });

    it('the Idempotency-Key of the failed create is free: the retry creates the request once', async () => {
      const retry = await clearPin({ process_immediately: true }, { 'Idempotency-Key': key });
      expect(retry.status).toBe(200);
      const again = await clearPin({ process_immediately: true }, { 'Idempotency-Key': key });
      expect(again.body).toEqual(retry.body);
      expect(await requestCount()).toBe(before + 1);
    });
  });
});
