import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { hashToken } from '../../functions/domain/credentials.ts';
import { loadReferenceData } from '../../infra/tools/reference-data.ts';
import { DEMO_LOGIN, DEMO_ORGANISATION, DEMO_TOKEN, DEMO_UNIT_ID, seedBody } from '../helpers/demo.ts';
import { get, postJson, type Reply, ROUTES } from '../helpers/http.ts';
import { CRM_ID } from '../helpers/oracle.ts';
import { SEED_DATA } from '../helpers/seed.ts';
import { useLocalStack } from '../helpers/stack.ts';

/** SPEC §2.1 and §2.2 over HTTP: login, tokens (release, expiry, sliding), no enumeration, lock-out. */

const stack = useLocalStack({ processing: false });

const FIELD_UNIT = {
  id: 'A1B2C3D4E5F60718293A4B5C6D7E8F90',
  name: 'Field Unit',
  group_name: 'Field Group',
  community_name: 'External Community',
  description: 'Technicians',
  alternative_code: 'FU',
};
const OTHER_USER = { username: 'FieldTechnician', password: 'pin-reset-42', organisation: DEMO_LOGIN.organisation };

beforeAll(async () => {
  // A second user with two units, through the same loader as the demo data.
  await loadReferenceData(stack().document, stack().tableName, {
    organisations: [
      {
        name: DEMO_ORGANISATION.name,
        units: [...DEMO_ORGANISATION.units, FIELD_UNIT],
        users: [
          {
            id: '3',
            username: OTHER_USER.username,
            person_name: 'Arya Field',
            password: OTHER_USER.password,
            default_unit_id: DEMO_UNIT_ID,
            unit_ids: [DEMO_UNIT_ID, FIELD_UNIT.id],
          },
        ],
        subscriptions: [],
      },
    ],
  });
});

const login = (body: Record<string, unknown>) => postJson(stack(), ROUTES.login, body);
const clearPin = (token: unknown) => postJson(stack(), ROUTES.clearPin, seedBody({ token }));
const showNumberOne = (token: string) =>
  get(stack(), ROUTES.show, { token, provisioning_request_identifier: 'number=1' });
const release = (token: string) => postJson(stack(), ROUTES.release, { token });
const tokenOf = async (body: Record<string, unknown> = DEMO_LOGIN): Promise<string> => {
  const response = await login(body);
  expect(response.status).toBe(200);
  return response.body?.data.token;
};
const expectCode = (response: Reply, status: number, code: string) => {
  expect({ status: response.status, code: response.body?.status.code, data: response.body?.data }).toEqual({
    status,
    code,
    data: null,
  });
};
const setLastUsed = async (token: string, msAgo: number) => {
  await stack().document.send(
    new UpdateCommand({
      TableName: stack().tableName,
      Key: { pk: `TOKEN#${hashToken(token)}` },
      UpdateExpression: 'SET lastUsedAt = :at',
      ExpressionAttributeValues: { ':at': new Date(Date.now() - msAgo).toISOString() },
    }),
  );
};

describe('login', () => {
  it('answers a new 32-hex token in the OK envelope', async () => {
    const response = await login(DEMO_LOGIN);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: { code: 'OK', message: '', description: '' },
      data: { token: expect.stringMatching(CRM_ID) },
    });
    expect(response.body?.data.token).not.toBe(DEMO_TOKEN);
  });

  it('gives a token that works, logged as the user and the default unit', async () => {
    const response = await clearPin(await tokenOf());
    expect(response.status).toBe(200);
    expect(response.body?.data.log_information.created_by_user).toEqual(SEED_DATA.log_information.created_by_user);
    expect(response.body?.data.log_information.created_by_unit).toEqual(SEED_DATA.log_information.created_by_unit);
  });

  it('accepts the spelling organization', async () => {
    const { organisation, ...rest } = DEMO_LOGIN;
    const response = await login({ ...rest, organization: organisation });
    expect(response.status).toBe(200);
    expect((await clearPin(response.body?.data.token)).status).toBe(200);
  });

  it('accepts both spellings when they agree, and refuses them when they differ', async () => {
    expect((await login({ ...DEMO_LOGIN, organization: DEMO_LOGIN.organisation })).status).toBe(200);
    expectCode(await login({ ...DEMO_LOGIN, organization: 'OTHER' }), 400, 'INVALID_VALUE');
  });

  it('logs in to the unit asked for, and the requests are logged with that unit', async () => {
    const token = await tokenOf({ ...OTHER_USER, unit: FIELD_UNIT.id });
    const response = await clearPin(token);
    expect(response.status).toBe(200);
    expect(response.body?.data.log_information.created_by_unit).toEqual(FIELD_UNIT);
    expect(response.body?.data.log_information.updated_by_unit).toEqual(FIELD_UNIT);
    expect(response.body?.data.log_information.created_by_user).toEqual({
      id: '3',
      username: OTHER_USER.username,
      person_name: 'Arya Field',
    });
  });

  it('logs in to the user’s default unit when none is asked for', async () => {
    const response = await clearPin(await tokenOf({ ...OTHER_USER }));
    expect(response.body?.data.log_information.created_by_unit.id).toBe(DEMO_UNIT_ID);
  });

  it('refuses a unit the user does not belong to', async () => {
    expectCode(await login({ ...DEMO_LOGIN, unit: FIELD_UNIT.id }), 401, 'INVALID_CREDENTIALS');
    await tokenOf(); // clears the failure it counted
  });

  it('stores neither the token nor the password in clear', async () => {
    const token = await tokenOf();
    const { Item: session } = await stack().document.send(
      new GetCommand({ TableName: stack().tableName, Key: { pk: `TOKEN#${hashToken(token)}` } }),
    );
    expect(session).toBeDefined();
    expect(JSON.stringify(session)).not.toContain(token);
    const { Item: user } = await stack().document.send(
      new GetCommand({
        TableName: stack().tableName,
        Key: { pk: keys.user(DEMO_LOGIN.organisation, DEMO_LOGIN.username) },
      }),
    );
    expect(user?.password_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(user)).not.toContain(JSON.stringify(DEMO_LOGIN.password));
  });
});

describe('failed logins', () => {
  it('answer wrong username, wrong password and wrong organisation identically', async () => {
    const responses = [
      await login({ ...DEMO_LOGIN, username: 'MPAdministrat0r' }),
      await login({ ...DEMO_LOGIN, password: '12345' }),
      await login({ ...DEMO_LOGIN, organisation: 'CRMDEM0' }),
    ];
    for (const response of responses) expectCode(response, 401, 'INVALID_CREDENTIALS');
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(new Set(responses.map((r) => r.headers.get('content-type'))).size).toBe(1);
    await tokenOf(); // a success clears the failures counted against MPAdministrator
  });
});

describe('lock-out', () => {
  const user = (password: string) => ({ ...OTHER_USER, password });
  const setFailures = async (username: string, values: Record<string, unknown>) => {
    const names = Object.keys(values);
    await stack().document.send(
      new UpdateCommand({
        TableName: stack().tableName,
        Key: { pk: keys.loginAttempts(OTHER_USER.organisation, username) },
        UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
        ExpressionAttributeValues: Object.fromEntries(names.map((n) => [`:${n}`, values[n]])),
      }),
    );
  };

  it('after 5 failures, even the right password is refused with TOO_MANY_ATTEMPTS', async () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      expectCode(await login(user(`wrong-${attempt}`)), 401, 'INVALID_CREDENTIALS');
    }
    const locked = await login(user(OTHER_USER.password));
    expectCode(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(locked.body?.status.message.length).toBeGreaterThan(0);
    // The seconds until the lock ends (SPEC §2.1): 15 minutes from the fifth failure, give or take this test.
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expectCode(await login(user('wrong-6')), 429, 'TOO_MANY_ATTEMPTS');
  });

  it('does not lock other usernames', async () => {
    expect((await login(DEMO_LOGIN)).status).toBe(200);
  });

  it('lets the user in again once the 15 minutes of the lock have passed', async () => {
    // A lock starts at the fifth attempt of a window, so when it ends its window is over too.
    await setFailures(OTHER_USER.username, {
      lockedUntil: new Date(Date.now() - 1000).toISOString(),
      windowStart: new Date(Date.now() - 31 * 60_000).toISOString(),
    });
    expect((await login(user(OTHER_USER.password))).status).toBe(200);
  });

  it('does not count failures older than 15 minutes', async () => {
    for (let attempt = 1; attempt <= 4; attempt++) await login(user('wrong'));
    await setFailures(OTHER_USER.username, { windowStart: new Date(Date.now() - 16 * 60_000).toISOString() });
    expectCode(await login(user('wrong')), 401, 'INVALID_CREDENTIALS');
    expect((await login(user(OTHER_USER.password))).status).toBe(200);
  });

  it('starts counting again after a successful login', async () => {
    for (let attempt = 1; attempt <= 4; attempt++) await login(user('wrong'));
    expect((await login(user(OTHER_USER.password))).status).toBe(200);
    for (let attempt = 1; attempt <= 4; attempt++) await login(user('wrong'));
    expect((await login(user(OTHER_USER.password))).status).toBe(200);
  });

  it('locks a username that does not exist the same way (no enumeration)', async () => {
    const ghost = { username: 'NoSuchUser', password: 'x', organisation: DEMO_LOGIN.organisation };
    for (let attempt = 1; attempt <= 5; attempt++) expectCode(await login(ghost), 401, 'INVALID_CREDENTIALS');
    expectCode(await login(ghost), 429, 'TOO_MANY_ATTEMPTS');
  });
});

describe('release', () => {
  it('answers an empty object and ends the token at once', async () => {
    const token = await tokenOf();
    expect((await clearPin(token)).status).toBe(200);
    const released = await release(token);
    expect(released.status).toBe(200);
    expect(released.body).toEqual({ status: { code: 'OK', message: '', description: '' }, data: {} });
    expectCode(await clearPin(token), 401, 'INVALID_TOKEN');
    expectCode(await showNumberOne(token), 401, 'INVALID_TOKEN');
    expectCode(await release(token), 401, 'INVALID_TOKEN');
  });

  it('ends only that token', async () => {
    const kept = await tokenOf();
    const released = await tokenOf();
    await release(released);
    expect((await clearPin(kept)).status).toBe(200);
  });
});

describe('token expiry: one hour without use, sliding', () => {
  it('refuses a token unused for two hours, on create and on show', async () => {
    const token = await tokenOf();
    await setLastUsed(token, 2 * 3600_000);
    expectCode(await clearPin(token), 401, 'INVALID_TOKEN');
    expectCode(await showNumberOne(token), 401, 'INVALID_TOKEN');
  });

  it('accepts a token last used 59 minutes ago, and that use restarts its hour', async () => {
    const token = await tokenOf();
    await setLastUsed(token, 59 * 60_000);
    expect((await clearPin(token)).status).toBe(200);
    const { Item } = await stack().document.send(
      new GetCommand({ TableName: stack().tableName, Key: { pk: `TOKEN#${hashToken(token)}` } }),
    );
    expect(Date.now() - Date.parse(Item?.lastUsedAt as string)).toBeLessThan(60_000);
  });

  it('keeps a token used through show alive too', async () => {
    const token = await tokenOf();
    await setLastUsed(token, 59 * 60_000);
    const response = await showNumberOne(token);
    expect(response.status).toBe(200);
    const { Item } = await stack().document.send(
      new GetCommand({ TableName: stack().tableName, Key: { pk: `TOKEN#${hashToken(token)}` } }),
    );
    expect(Date.now() - Date.parse(Item?.lastUsedAt as string)).toBeLessThan(60_000);
  });

  it('accepts the token in lowercase too', async () => {
    expect((await clearPin(DEMO_TOKEN.toLowerCase())).status).toBe(200);
  });
});
