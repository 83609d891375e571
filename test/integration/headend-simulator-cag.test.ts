import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CagHeadendSimulator,
  DEFAULT_CAG_SETTINGS,
  startHeadendSimulator,
} from '../../infra/local/headend-simulator.ts';

/**
 * The simulator's CAG mode (SPEC §4.2) spoken to over raw HTTP: the Keycloak-style token endpoint, the PIN call's
 * checks in order (token, mandatory headers, tenant and operator, CAS instance, device), the configurable answers,
 * the refusal switch, the counters and the admin endpoints. Its clock is the test's, so tokens expire on demand.
 */
const SETTINGS = {
  realm: 'opentv',
  clientId: 'crm-clear-pin',
  username: 'cag-operator',
  password: 'Op3rat0r-Pa55-s1m-04aa',
  casInstanceName: 'cas1',
  tenantId: 'tenant-7',
  operator: 'OPCO',
  accessTokenSeconds: 60,
  refreshTokenSeconds: 120,
};
const KNOWN = 'smrt200000';
const UNKNOWN = 'smrt299999';

let simulator: CagHeadendSimulator;
let clock = Date.now();

type Answer = { status: number; headers: Headers; body: Record<string, unknown> };

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) };
}

async function grant(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
  return answer(
    await fetch(simulator.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

const passwordGrant = (overrides: Record<string, string> = {}) =>
  grant({
    grant_type: 'password',
    client_id: SETTINGS.clientId,
    username: SETTINGS.username,
    password: SETTINGS.password,
    ...overrides,
  });

async function accessToken(): Promise<string> {
  return (await passwordGrant()).body.access_token as string;
}

const HEADERS = { 'nv-tenant-id': SETTINGS.tenantId, operator: SETTINGS.operator, 'x-correlation-id': 'corr-1' };

async function pin(
  deviceId: string,
  options: { token?: string; headers?: Record<string, string | undefined>; cas?: string; method?: string } = {},
): Promise<Answer> {
  const headers = Object.fromEntries(
    Object.entries({ ...HEADERS, ...options.headers }).filter((entry): entry is [string, string] => !!entry[1]),
  );
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const path = `/cag/v1/${options.cas ?? SETTINGS.casInstanceName}/devices/${encodeURIComponent(deviceId)}/pin`;
  return answer(await fetch(`${simulator.url}${path}`, { method: options.method ?? 'PUT', headers }));
}

async function admin(path: string, method = 'GET', body?: unknown): Promise<Answer> {
  return answer(
    await fetch(`${simulator.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
}

beforeAll(async () => {
  simulator = await startHeadendSimulator({
    protocol: 'nagra-cag',
    ...SETTINGS,
    knownCards: [KNOWN],
    devices: {
      smrt200007: { idField: '_id', commands: [{ responseCode: '20117', responseText: 'Smartcard is blacklisted' }] },
    },
    now: () => clock,
  });
});

afterAll(async () => {
  await simulator?.stop();
});

beforeEach(() => {
  simulator.reset();
});

describe('CAG simulator token endpoint', () => {
  it('grants Keycloak-style tokens for the operator account, not to be cached', async () => {
    const reply = await passwordGrant();

    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toMatchObject({ expires_in: 60, refresh_expires_in: 120, token_type: 'Bearer' });
    expect(reply.body.access_token).toEqual(expect.any(String));
    expect(reply.body.refresh_token).toEqual(expect.any(String));
    expect(reply.body.access_token).not.toBe(reply.body.refresh_token);
    expect(simulator.tokenUrl).toBe(`${simulator.url}/realms/opentv/protocol/openid-connect/token`);
  });

  it.each([
    ['a wrong password', { password: 'wrong' }, 401, 'invalid_grant'],
    ['a wrong username', { username: 'someone' }, 401, 'invalid_grant'],
    ['an unknown client', { client_id: 'other-client' }, 401, 'invalid_client'],
    ['no grant type', { grant_type: '' }, 400, 'invalid_request'],
    ['an unsupported grant type', { grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
  ])('refuses %s as Keycloak does', async (_case, overrides, status, error) => {
    const reply = await passwordGrant(overrides);
    expect(reply.status).toBe(status);
    expect(reply.body.error).toBe(error);
    expect(reply.body.access_token).toBeUndefined();
  });

  it('takes only form-encoded requests', async () => {
    const reply = await answer(
      await fetch(simulator.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', client_id: SETTINGS.clientId }),
      }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
  });

  it('renews by the refresh grant while the refresh token lives, then refuses it', async () => {
    const first = await passwordGrant();
    const refresh = { grant_type: 'refresh_token', client_id: SETTINGS.clientId };
    const renewed = await grant({ ...refresh, refresh_token: first.body.refresh_token as string });
    expect(renewed.status).toBe(200);
    expect(renewed.body.access_token).not.toBe(first.body.access_token);

    clock += 120_000;
    const late = await grant({ ...refresh, refresh_token: first.body.refresh_token as string });
    expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // An access token is no refresh token.
    const wrongKind = await grant({ ...refresh, refresh_token: renewed.body.access_token as string });
    expect(wrongKind).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 3 });
  });

  it('plays its own faults, apart from those of the PIN call', async () => {
    simulator.setTokenFaults({ failRate: 1 });
    expect((await passwordGrant()).status).toBe(503);
    simulator.setTokenFaults({});
    const token = await accessToken();
    simulator.setTokenFaults({ down: true });
    expect((await pin(KNOWN, { token })).status).toBe(200);
    await expect(passwordGrant()).rejects.toThrow();
  });
});

describe('CAG simulator PIN call', () => {
  it('resets the PIN of a known device and answers its commands', async () => {
    const reply = await pin(KNOWN, { token: await accessToken() });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'Success',
      commandCount: 1,
      commandResults: [
        { commandName: 'overwriteParentalPinCode', id: expect.any(String), responseCode: '0', responseText: 'OK' },
      ],
    });
    expect(simulator.callsFor(KNOWN)).toBe(1);
    expect(simulator.executionsFor(KNOWN)).toBe(1);
  });

  it('refuses a missing, unknown or expired access token with 401', async () => {
    const token = await accessToken();
    expect((await pin(KNOWN)).status).toBe(401);
    expect((await pin(KNOWN, { token: 'made-up' })).status).toBe(401);
    clock += 60_000;
    expect((await pin(KNOWN, { token })).status).toBe(401);
    expect(simulator.callsFor(KNOWN)).toBe(3);
    expect(simulator.executionsFor(KNOWN)).toBe(0);
  });

  it.each(['nv-tenant-id', 'operator', 'x-correlation-id'])(
    'answers 400 naming %s when it is missing',
    async (name) => {
      const reply = await pin(KNOWN, { token: await accessToken(), headers: { [name]: undefined } });

      expect(reply.status).toBe(400);
      expect(reply.body.resultText).toContain(name);
      expect(simulator.executionsFor(KNOWN)).toBe(0);
    },
  );

  it('answers 403 with resultCode 99999:403 for a tenant or operator the token is not entitled to', async () => {
    const token = await accessToken();
    for (const headers of [{ 'nv-tenant-id': 'tenant-8' }, { operator: 'OTHER' }]) {
      const reply = await pin(KNOWN, { token, headers });
      expect(reply.status).toBe(403);
      expect(reply.body.resultCode).toBe('99999:403');
    }
  });

  it('answers 404 for an unknown device or CAS instance', async () => {
    const token = await accessToken();
    const device = await pin(UNKNOWN, { token });
    expect(device.status).toBe(404);
    expect(device.body.resultText).toContain(UNKNOWN);
    const cas = await pin(KNOWN, { token, cas: 'cas2' });
    expect(cas.status).toBe(404);
    expect(cas.body.resultText).toContain('cas2');
    expect(simulator.callsFor(UNKNOWN)).toBe(1);
    expect(simulator.executionsFor(UNKNOWN)).toBe(0);
  });

  it('answers the configured failing code with `_id` for a chosen device', async () => {
    const reply = await pin('smrt200007', { token: await accessToken() });

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'Failure', commandCount: 1 });
    expect(reply.body.commandResults).toEqual([
      {
        commandName: 'overwriteParentalPinCode',
        _id: expect.stringMatching(/^[0-9a-f]{24}$/),
        responseCode: '20117',
        responseText: 'Smartcard is blacklisted',
      },
    ]);
  });

  it('answers several commands for a device set so, and forgets the device on request', async () => {
    const token = await accessToken();
    simulator.setDevice('smrt200042', {
      commands: [
        { responseCode: '0', responseText: 'OK' },
        { commandName: 'resetPinRetries', responseCode: '0', responseText: 'OK' },
      ],
    });
    const reply = await pin('smrt200042', { token });
    expect(reply.body).toMatchObject({ status: 'Success', commandCount: 2 });
    expect((reply.body.commandResults as { commandName: string }[]).map((result) => result.commandName)).toEqual([
      'overwriteParentalPinCode',
      'resetPinRetries',
    ]);

    simulator.setDevice('smrt200042', undefined);
    expect((await pin('smrt200042', { token })).status).toBe(404);
  });

  it('refuses the next calls as told, whatever their token: 401, 403, or 200 with resultCode 99999:403', async () => {
    const token = await accessToken();
    simulator.refuseNext(1, 401);
    expect((await pin(KNOWN, { token })).status).toBe(401);
    simulator.refuseNext(1, 403);
    expect(await pin(KNOWN, { token })).toMatchObject({ status: 403, body: { resultCode: '99999:403' } });
    simulator.refuseNext(2, '99999:403');
    expect(await pin(KNOWN, { token })).toMatchObject({ status: 200, body: { resultCode: '99999:403' } });
    expect(await pin(KNOWN, { token })).toMatchObject({ status: 200, body: { resultCode: '99999:403' } });
    expect((await pin(KNOWN, { token })).body).toMatchObject({ status: 'Success' });
    expect(simulator.callsFor(KNOWN)).toBe(5);
    expect(simulator.executionsFor(KNOWN)).toBe(1);
  });

  it('ends every session when tokens are revoked', async () => {
    const first = await passwordGrant();
    simulator.revokeTokens();

    expect((await pin(KNOWN, { token: first.body.access_token as string })).status).toBe(401);
    const refresh = await grant({
      grant_type: 'refresh_token',
      client_id: SETTINGS.clientId,
      refresh_token: first.body.refresh_token as string,
    });
    expect(refresh.status).toBe(400);
  });

  it('plays the faults of §4.1 on the PIN call', async () => {
    const token = await accessToken();
    simulator.setFaults({ failRate: 1 });
    expect((await pin(KNOWN, { token })).status).toBe(503);
    simulator.setFaults({ rateLimitPerSecond: 1 });
    expect((await pin(KNOWN, { token })).status).toBe(200);
    expect((await pin(KNOWN, { token })).status).toBe(429);
    simulator.setFaults({ down: true });
    await expect(pin(KNOWN, { token })).rejects.toThrow();
    simulator.setFaults({ timeout: true });
    await expect(
      fetch(`${simulator.url}/cag/v1/cas1/devices/${KNOWN}/pin`, {
        method: 'PUT',
        headers: { ...HEADERS, authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect(simulator.callsReceived()).toBe(5);
    expect(simulator.executionsFor(KNOWN)).toBe(1);
  });

  it('answers 400 to a path that is not valid percent-encoding, and goes on serving', async () => {
    const reply = await fetch(`${simulator.url}/cag/v1/cas1/devices/%E0%A4%A/pin`, { method: 'PUT' });
    expect(reply.status).toBe(400);
    expect((await pin(KNOWN, { token: await accessToken() })).status).toBe(200);
  });

  it('takes only PUT on the PIN path', async () => {
    const reply = await pin(KNOWN, { token: await accessToken(), method: 'POST' });
    expect(reply.status).toBe(405);
    expect(simulator.callsFor(KNOWN)).toBe(0);
  });
});

describe('CAG simulator admin endpoints', () => {
  it('sets devices, refusals, faults and token faults, revokes tokens, reports stats and resets over HTTP', async () => {
    const token = await accessToken();
    expect((await admin('/admin/devices/smrt200009', 'PUT', { idField: '_id' })).status).toBe(200);
    expect((await pin('smrt200009', { token })).body.commandResults).toEqual([
      expect.objectContaining({ _id: expect.any(String) }),
    ]);
    expect((await admin('/admin/devices/smrt200009', 'DELETE')).status).toBe(204);
    expect((await pin('smrt200009', { token })).status).toBe(404);

    expect((await admin('/admin/refuse-next', 'POST', { count: 1, as: '99999:403' })).status).toBe(200);
    expect((await pin(KNOWN, { token })).body.resultCode).toBe('99999:403');

    expect((await admin('/admin/faults', 'PUT', { failRate: 1 })).status).toBe(200);
    expect((await pin(KNOWN, { token })).status).toBe(503);
    expect((await admin('/admin/token-faults', 'PUT', { failRate: 1 })).body).toEqual({ failRate: 1 });
    expect((await passwordGrant()).status).toBe(503);

    expect(await admin('/admin/stats')).toMatchObject({
      status: 200,
      body: {
        calls: 4,
        maxInFlight: 1,
        executions: 1,
        tokenRequests: { password: 1, refresh: 0 },
        devices: { smrt200009: { calls: 2, executions: 1 }, [KNOWN]: { calls: 2, executions: 0 } },
      },
    });

    expect((await admin('/admin/reset', 'POST')).status).toBe(204);
    expect((await admin('/admin/stats')).body).toMatchObject({ calls: 0, executions: 0, devices: {} });
    expect((await admin('/admin/token-faults')).body).toEqual({});
    expect((await pin(KNOWN, { token })).status).toBe(200);

    expect((await admin('/admin/revoke-tokens', 'POST')).status).toBe(204);
    expect((await pin(KNOWN, { token })).status).toBe(401);
  });

  it.each([
    ['/admin/devices/x', 'PUT', { commands: [] }],
    ['/admin/devices/x', 'PUT', { commands: [{ responseCode: 1, responseText: 'OK' }] }],
    ['/admin/devices/x', 'PUT', { idField: 'uuid' }],
    ['/admin/devices/x', 'PUT', { answer: 'OK' }],
    ['/admin/refuse-next', 'POST', { count: 1, as: 500 }],
    ['/admin/refuse-next', 'POST', { count: -1, as: 401 }],
    ['/admin/token-faults', 'PUT', { failRate: 2 }],
  ])('refuses %s %s with %j', async (path, method, body) => {
    expect((await admin(path, method, body)).status).toBe(400);
  });

  it('starts with the local defaults when given no settings', async () => {
    const local = await startHeadendSimulator({ protocol: 'nagra-cag' });
    try {
      const token = await fetch(local.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: DEFAULT_CAG_SETTINGS.clientId,
          username: DEFAULT_CAG_SETTINGS.username,
          password: DEFAULT_CAG_SETTINGS.password,
        }),
      });
      const { access_token } = (await token.json()) as { access_token: string };
      const reply = await fetch(`${local.url}/cag/v1/${DEFAULT_CAG_SETTINGS.casInstanceName}/devices/smrt200001/pin`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${access_token}`,
          'nv-tenant-id': DEFAULT_CAG_SETTINGS.tenantId,
          operator: DEFAULT_CAG_SETTINGS.operator,
          'x-correlation-id': 'c-1',
        },
      });
      expect(reply.status).toBe(200);
      expect(local.callsFor('smrt200001')).toBe(1);
    } finally {
      await local.stop();
    }
  });
});

describe('headend simulator command line', () => {
  it('starts in CAG mode when HEADEND_PROTOCOL is nagra-cag, configured by HEADEND_CAG_*', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../infra/local/headend-simulator.ts')], {
      env: {
        PATH: process.env.PATH,
        HEADEND_PROTOCOL: 'nagra-cag',
        HEADEND_PORT: '0',
        HEADEND_CAG_CLIENT_ID: 'cli-client',
        HEADEND_CAG_USERNAME: 'cli-user',
        HEADEND_CAG_PASSWORD: 'cli-Pa55',
        HEADEND_CAG_TENANT_ID: 'cli-tenant',
        HEADEND_CAG_OPERATOR: 'CLIOP',
        HEADEND_CAG_CAS_INSTANCE: 'cli-cas',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      while (!/CAS instance .*\n/.test(output)) {
        const [chunk] = (await once(child.stdout, 'data')) as [string];
        output += chunk;
      }
      const tokenUrl = /token endpoint (\S+)/.exec(output)?.[1] as string;
      const url = /listening on (\S+),/.exec(output)?.[1] as string;
      expect(output).toContain(
        'CAS instance cli-cas, tenant cli-tenant, operator CLIOP, client cli-client, user cli-user',
      );
      expect(output).not.toContain('cli-Pa55');

      const token = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'cli-client',
          username: 'cli-user',
          password: 'cli-Pa55',
        }),
      });
      const { access_token } = (await token.json()) as { access_token: string };
      const reply = await fetch(`${url}/cag/v1/cli-cas/devices/smrt200000/pin`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${access_token}`,
          'nv-tenant-id': 'cli-tenant',
          operator: 'CLIOP',
          'x-correlation-id': 'c-1',
        },
      });
      expect(reply.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
