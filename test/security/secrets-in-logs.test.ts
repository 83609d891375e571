import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';
import { captureOutput } from '../helpers/capture.ts';
import { DEMO_LOGIN, DEMO_TOKEN, KNOWN_CARD, OTHER_KNOWN_CARD, UNKNOWN_CARD } from '../helpers/demo.ts';
import { createClearPin, login, postJson, ROUTES, show, tokenIn } from '../helpers/http.ts';
import { CRM_ID } from '../helpers/oracle.ts';
import { createMany, settledProblems, waitUntilFinal } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * Secrets never reach the logs. The whole local stack runs with DEBUG logging and Powertools' event logging
 * switched on (the most an operator could turn up), its output captured from the start; the test then logs in
 * (right and wrong), creates (valid and invalid), shows, releases, lets the headend fail and DynamoDB drop, and
 * searches everything written for the tokens, passwords and headend secret it used.
 */
let output: ReturnType<typeof captureOutput>;

// Long and distinctive, so none can occur by chance inside an id or a timestamp (the demo password "1234" can).
const WRONG_PASSWORDS = ['Wr0ng-Pa55-7d1c9e', 'Wr0ng-1235-q9z', 'hunter2-a8f3'];
const MADE_UP_TOKEN = 'DEADBEEF00112233445566778899AABB';
const used = { tokens: [DEMO_TOKEN, MADE_UP_TOKEN] as string[] };

// Registered before the stack's own hooks, so the capture holds the stack's start and stop too.
beforeAll(() => {
  output = captureOutput();
});
afterAll(() => {
  output.restore();
});

const stack = useLocalStack({
  faultProxies: true,
  processingIntervalMs: 500,
  env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
});

describe('with DEBUG logging and event logging on', () => {
  it('runs logins, creates, shows, releases, headend failures and a DynamoDB outage', async () => {
    const tokenReply = await login(stack());
    expect(tokenReply.status).toBe(200);
    const token = tokenIn(tokenReply);
    const second = {
      token: tokenIn(await login(stack(), { organization: DEMO_LOGIN.organisation, organisation: undefined })),
    };
    expect(second.token).toMatch(CRM_ID);
    used.tokens.push(token, second.token);
    for (const password of WRONG_PASSWORDS) expect((await login(stack(), { password })).status).toBe(401);

    // Creates with each token, valid and invalid, with an Idempotency-Key, and one with a made-up token.
    const created = await createMany(stack(), 6);
    expect((await createClearPin(stack(), OTHER_KNOWN_CARD, { token })).status).toBe(200);
    expect((await createClearPin(stack(), KNOWN_CARD, { priority: 'URGENT', token })).status).toBe(400);
    expect((await createClearPin(stack(), KNOWN_CARD, { token: MADE_UP_TOKEN })).status).toBe(401);
    expect((await createClearPin(stack(), UNKNOWN_CARD, {}, { 'Idempotency-Key': 'logs-1' })).status).toBe(200);
    expect((await show(stack(), `id=${created[0]?.id}`, token)).status).toBe(200);
    expect((await show(stack(), 'number=999999', second.token)).status).toBe(404);

    // The headend fails (warnings with the failure), then recovers.
    stack().headend.setFaults({ failRate: 1 });
    const during = await createMany(stack(), 3, { extra: () => ({ process_immediately: true }) });
    await sleep(1_500);
    stack().headend.setFaults({});
    await waitUntilFinal(
      stack(),
      [...created, ...during].map((c) => c.id),
      30_000,
    );
    expect(await settledProblems(stack(), [...created, ...during])).toEqual([]);

    // DynamoDB drops (errors logged with the SDK's error), then comes back.
    stack().dynamoProxy.cut();
    expect((await createClearPin(stack(), KNOWN_CARD, { token })).status).toBe(503);
    expect((await login(stack())).status).toBe(503);
    stack().dynamoProxy.restore();

    expect((await postJson(stack(), ROUTES.release, { token: second.token })).status).toBe(200);
    expect((await postJson(stack(), ROUTES.release, { token: second.token })).status).toBe(401);
  });

  it('logged what it did: the search below is not of an empty log', () => {
    const text = output.text();
    for (const line of [
      '"level":"INFO"',
      '"level":"WARN"',
      '"level":"ERROR"',
      'Lambda invocation event',
      'Headend call failed',
      'Dependency unavailable',
      'Processing run finished',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('logged no token, password or headend secret', () => {
    const text = output.text();
    const lower = text.toLowerCase();
    for (const token of used.tokens) expect(lower, `token ${token}`).not.toContain(token.toLowerCase());
    for (const password of WRONG_PASSWORDS) expect(text, `password ${password}`).not.toContain(password);
    // The demo password "1234" is short enough to occur inside ids: look for it as a JSON value, escaped or not.
    expect(text).not.toMatch(/\\?"password\\?"\s*:/);
    expect(text).not.toMatch(/\\?"1234\\?"/);
    expect(text).not.toContain(DEFAULT_HEADEND_SECRET);
    expect(lower).not.toContain('bearer ');
  });
});
