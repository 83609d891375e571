import { paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../infra/tools/reference-data.ts';
import { DEMO_LOGIN, DEMO_ORGANISATION, DEMO_TOKEN, DEMO_UNIT_ID, KNOWN_CARD } from '../helpers/demo.ts';
import { createClearPin, login, postJson, type Reply, ROUTES, show, tokenIn } from '../helpers/http.ts';
import { envelopeProblems } from '../helpers/oracle.ts';
import { runPool } from '../helpers/pool.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * SPEC §2.1–§2.2 against a hostile client: lock-out after five failures, no user enumeration, expired and
 * released tokens refused everywhere, wrong passwords refused whatever their length, tokens stored only as hashes.
 * Test users are loaded with the same loader as the demo data, one per test, so lock-outs do not interfere.
 */
const stack = useLocalStack({ processing: false, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });

const PASSWORD = 'c0rrect-h0rse-battery';
const USERS = [
  'sec-brute',
  'sec-burst',
  'sec-burst-20',
  'sec-burst-60',
  'sec-burst-right',
  'sec-expiry',
  'sec-release',
  'sec-lengths',
  'sec-enum',
] as const;

beforeAll(async () => {
  await loadReferenceData(stack().document, stack().tableName, {
    organisations: [
      {
        name: DEMO_ORGANISATION.name,
        units: DEMO_ORGANISATION.units,
        users: USERS.map((username, i) => ({
          id: `90${i}`,
          username,
          person_name: `Security Test ${i}`,
          password: PASSWORD,
          default_unit_id: DEMO_UNIT_ID,
          unit_ids: [DEMO_UNIT_ID],
        })),
        subscriptions: [],
      },
    ],
  });
});

const loginAs = (username: string, password = PASSWORD, organisation: string = DEMO_LOGIN.organisation) =>
  login(stack(), { username, password, organisation });

const tokenOf = (reply: Reply) => {
  expect(reply.status, reply.text).toBe(200);
  return tokenIn(reply);
};

/** Every use a client can make of a token, each of which must refuse a dead one with 401 INVALID_TOKEN. */
const useToken = async (token: string) => [
  await createClearPin(stack(), KNOWN_CARD, { token }),
  await show(stack(), 'number=1', token),
  await postJson(stack(), ROUTES.release, { token }),
];

const expectRefused = (replies: Reply[]) => {
  for (const reply of replies) {
    expect(reply.status, reply.text).toBe(401);
    expect(reply.body?.status.code).toBe('INVALID_TOKEN');
    expect(envelopeProblems(reply)).toEqual([]);
  }
};

/** Every item of a table (a paginated, strongly consistent scan). */
const scanAll = async (tableName: string) => {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: stack().document }, { TableName: tableName, ConsistentRead: true })) {
    items.push(...(page.Items ?? []));
  }
  return items;
};

/** Ages a token's session as if it had not been used for `minutes` (the table is the only clock we can move). */
const ageTokens = async (minutes: number, except: Set<string>) => {
  const sessions = (await scanAll(stack().tableName)).filter((i) => String(i.pk).startsWith('TOKEN#'));
  const aged = sessions.filter((s) => !except.has(String(s.pk)));
  for (const session of aged) {
    await stack().document.send(
      new UpdateCommand({
        TableName: stack().tableName,
        Key: { pk: session.pk },
        UpdateExpression: 'SET lastUsedAt = :at',
        ExpressionAttributeValues: { ':at': new Date(Date.now() - minutes * 60_000).toISOString() },
      }),
    );
  }
  return aged.length;
};

const sessionKeys = async () =>
  new Set((await scanAll(stack().tableName)).map((i) => String(i.pk)).filter((pk) => pk.startsWith('TOKEN#')));

describe('login brute force', () => {
  it('locks a username after five failures: even the right password then gets 429 TOO_MANY_ATTEMPTS', async () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const reply = await loginAs('sec-brute', `guess-${attempt}`);
      expect(reply.status).toBe(401);
      expect(reply.body?.status.code).toBe('INVALID_CREDENTIALS');
    }
    const locked = await loginAs('sec-brute');
    expect(locked.status).toBe(429);
    expect(locked.body?.status.code).toBe('TOO_MANY_ATTEMPTS');
    expect(envelopeProblems(locked)).toEqual([]);
    // The lock is per username: another user logs in.
    tokenOf(await loginAs('sec-enum'));
  });

  it('counts a concurrent burst of failures: after it, the right password is refused', async () => {
    const replies = await runPool(
      Array.from({ length: 24 }, (_, i) => i),
      12,
      (i) => loginAs('sec-burst', `burst-${i}`),
    );
    for (const reply of replies) expect([401, 429]).toContain(reply.status);
    expect(replies.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect((await loginAs('sec-burst')).status).toBe(429);
  });

  it.each([20, 60])(
    'judges at most 5 of %i parallel wrong passwords; the rest are refused at once, saying when to retry',
    async (count) => {
      const username = `sec-burst-${count}`;
      const replies = await Promise.all(Array.from({ length: count }, (_, i) => loginAs(username, `burst-${i}`)));
      const codes = replies.map((r) => `${r.status} ${r.body?.status.code}`);
      expect(codes.filter((c) => c === '401 INVALID_CREDENTIALS').length).toBeLessThanOrEqual(5);
      expect(codes.filter((c) => c !== '401 INVALID_CREDENTIALS' && c !== '429 TOO_MANY_ATTEMPTS')).toEqual([]);
      for (const refused of replies.filter((r) => r.status === 429)) {
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(envelopeProblems(refused)).toEqual([]);
      }
      // After the burst the lock holds, the right password included.
      expect((await loginAs(username)).status).toBe(429);
    },
  );

  it('refuses the right password sent inside a burst of wrong ones, and after it, until the lock ends', async () => {
    const username = 'sec-burst-right';
    const burst = Array.from({ length: 19 }, (_, i) => loginAs(username, `burst-${i}`));
    // Once one attempt of the burst has been refused, the five slots of the window are taken: the right password
    // arrives while the burst is still being answered.
    const firstRefusal = await Promise.any(
      burst.map(async (reply) => ((await reply).status === 429 ? reply : Promise.reject(new Error('judged')))),
    );
    expect((await firstRefusal).status).toBe(429);
    const inside = await loginAs(username);
    const replies = await Promise.all(burst);
    expect(inside.status, inside.text).toBe(429);
    expect(replies.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    expect((await loginAs(username)).status).toBe(429);
  });

  it('locks unknown usernames too, with the same answers as for a real one', async () => {
    for (let attempt = 1; attempt <= 5; attempt++)
      expect((await loginAs('sec-nobody', `x${attempt}`)).status).toBe(401);
    expect((await loginAs('sec-nobody')).status).toBe(429);
  });
});

describe('no user enumeration', () => {
  it('answers a wrong username, password or organisation with the same status and body', async () => {
    const replies = [
      await loginAs('sec-enum-missing'),
      await loginAs('sec-enum', 'wrong-password'),
      await loginAs('sec-enum', PASSWORD, 'NOSUCHORG'),
    ];
    const shapes = replies.map((r) => JSON.stringify({ status: r.status, body: r.body }));
    expect(new Set(shapes).size).toBe(1);
    expect(replies[0]?.status).toBe(401);
    expect(replies[0]?.body?.status.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('passwords', () => {
  it('refuses wrong passwords of equal and of different length, and accepts only the right one', async () => {
    const wrong = [
      PASSWORD.replace(/.$/, 'X'), // same length, last character differs
      PASSWORD.toUpperCase(), // same length
      PASSWORD.slice(0, -1), // one shorter
      `${PASSWORD}\u0000`, // one longer, invisible
    ];
    for (const password of wrong) {
      const reply = await loginAs('sec-lengths', password);
      expect(reply.status, password).toBe(401);
    }
    tokenOf(await loginAs('sec-lengths'));
  });
});

describe('tokens', () => {
  it('refuses a released token everywhere, at once', async () => {
    const token = tokenOf(await loginAs('sec-release'));
    const released = await postJson(stack(), ROUTES.release, { token });
    expect(released.status).toBe(200);
    expect(released.body?.data).toEqual({});
    expectRefused(await useToken(token));
    expectRefused(await useToken(token.toLowerCase()));
  });

  it('refuses a token unused for over an hour, and keeps one used within the hour alive', async () => {
    const keep = await sessionKeys();
    const expiring = tokenOf(await loginAs('sec-expiry'));
    expect(await ageTokens(62, keep)).toBe(1);
    expectRefused(await useToken(expiring));

    const before = await sessionKeys();
    const sliding = tokenOf(await loginAs('sec-expiry'));
    expect(await ageTokens(50, before)).toBe(1);
    const reply = await show(stack(), 'number=999999', sliding);
    expect(reply.body?.status.code).toBe('PROVISIONING_REQUEST_NOT_FOUND');
  });

  it('refuses made-up, empty and malformed tokens', async () => {
    for (const token of ['00000000000000000000000000000000', '', ' ', `${DEMO_TOKEN} `, DEMO_TOKEN.slice(1)]) {
      expectRefused(await useToken(token));
    }
  });

  it('stores no token value and no password anywhere: only hashes', async () => {
    const obtained = [tokenOf(await loginAs('sec-enum')), tokenOf(await login(stack())), DEMO_TOKEN];
    const items = await scanAll(stack().tableName);
    const text = JSON.stringify(items);
    for (const token of obtained) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.toLowerCase());
    }
    for (const password of [PASSWORD, `"${DEMO_LOGIN.password}"`]) expect(text).not.toContain(password);
    const sessions = items.filter((i) => String(i.pk).startsWith('TOKEN#'));
    expect(sessions.length).toBeGreaterThanOrEqual(obtained.length);
  });
});
