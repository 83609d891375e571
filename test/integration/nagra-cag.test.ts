import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CagOperatorAccount } from '../../functions/adapters/headend/cag-token.ts';
import { type Credential, fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { type CagHeadendOptions, createCagHeadendClient } from '../../functions/adapters/headend/nagra-cag.ts';
import type { HeadendClient, HeadendCommand, HeadendOutcome } from '../../functions/use-cases/ports.ts';
import { type CagHeadendSimulator, startHeadendSimulator } from '../../infra/local/headend-simulator.ts';

/**
 * The CAG adapter (SPEC §4.2) over real HTTP against the simulator's CAG mode, with one clock shared by both so
 * that tokens expire when a test says (no test waits for them, except the one on a real clock). The simulator's
 * tokens are recorded as it makes them, and the last test of the first block searches every outcome for them.
 */
const ACCOUNT: CagOperatorAccount = { username: 'cag-operator', password: 'Op3rat0r-Pa55-c4g-71e2' };
const SETTINGS = {
  clientId: 'crm-clear-pin',
  casInstanceName: 'cas 01',
  tenantId: 'tenant-7',
  operator: 'OPCO',
  accessTokenSeconds: 1,
  refreshTokenSeconds: 2,
};
const KNOWN = 'smrt200000';
const UNKNOWN = 'smrt299999';

let simulator: CagHeadendSimulator;
let clock = Date.now();
const issuedTokens: string[] = [];
const outcomes: HeadendOutcome[] = [];

function client(overrides: Partial<CagHeadendOptions> = {}): HeadendClient & { sent: HeadendOutcome[] } {
  const headend = createCagHeadendClient({
    baseUrl: simulator.url,
    tokenUrl: simulator.tokenUrl,
    credential: fixedCredential(ACCOUNT),
    okCodes: [],
    transientCodes: [],
    timeoutMs: 5_000,
    now: () => clock,
    ...SETTINGS,
    ...overrides,
  });
  const sent: HeadendOutcome[] = [];
  return {
    sent,
    async send(command, signal) {
      const outcome = await headend.send(command, signal);
      sent.push(outcome);
      outcomes.push(outcome);
      return outcome;
    },
  };
}

function command(overrides: Partial<HeadendCommand> = {}): HeadendCommand {
  return {
    transactionId: randomUUID().replaceAll('-', '').toUpperCase(),
    smartcardCaId: KNOWN,
    priority: 'REGULAR',
    ...overrides,
  };
}

function advance(ms: number): void {
  clock += ms;
}

beforeAll(async () => {
  simulator = await startHeadendSimulator({
    protocol: 'nagra-cag',
    ...SETTINGS,
    ...ACCOUNT,
    knownCards: [KNOWN, 'smrt200001'],
    now: () => clock,
    newToken: () => {
      const token = `tok-${randomUUID()}`;
      issuedTokens.push(token);
      return token;
    },
  });
});

afterAll(async () => {
  await simulator?.stop();
});

beforeEach(() => {
  simulator.reset();
  // Forward only, past every token issued so far, so that no test sees another's tokens alive.
  advance(10_000);
});

describe('CAG adapter against the headend simulator', () => {
  it('gets a PIN reset accepted, with the first command id as reference and the call without its token stored', async () => {
    const sent = command();
    const outcome = await client().send(sent);

    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    const response = JSON.parse(outcome.response);
    expect(response).toMatchObject({ status: 'Success', commandCount: 1 });
    expect(response.commandResults[0]).toMatchObject({ commandName: 'overwriteParentalPinCode', responseText: 'OK' });
    expect(outcome.referenceNumber).toBe(response.commandResults[0].id);
    expect(JSON.parse(outcome.request)).toEqual({
      method: 'PUT',
      path: '/cag/v1/cas%2001/devices/smrt200000/pin',
      headers: { 'nv-tenant-id': 'tenant-7', operator: 'OPCO', 'x-correlation-id': sent.transactionId },
    });
    expect(outcome.request).not.toMatch(/authorization|bearer/i);
    expect(simulator.callsFor(KNOWN)).toBe(1);
    expect(simulator.executionsFor(KNOWN)).toBe(1);
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 0 });
  });

  it('takes the reference from `_id` when the gateway names it so', async () => {
    simulator.setDevice(KNOWN, { idField: '_id' });
    const outcome = await client().send(command());

    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    const first = JSON.parse(outcome.response).commandResults[0];
    expect(first.id).toBeUndefined();
    expect(outcome.referenceNumber).toBe(first._id);
  });

  it('accepts several commands when all are OK, with the first one as reference', async () => {
    simulator.setDevice(KNOWN, {
      commands: [
        { commandName: 'overwriteParentalPinCode', responseCode: '0', responseText: 'OK' },
        { commandName: 'resetPinRetries', responseCode: '0', responseText: 'OK' },
      ],
    });
    const outcome = await client().send(command());

    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    const results = JSON.parse(outcome.response).commandResults;
    expect(results).toHaveLength(2);
    expect(outcome.referenceNumber).toBe(results[0].id);
  });

  it('rejects with the code and text of the first failed command', async () => {
    simulator.setDevice(KNOWN, {
      idField: '_id',
      commands: [
        { responseCode: '0', responseText: 'OK' },
        { responseCode: '20117', responseText: 'Smartcard is blacklisted' },
        { responseCode: '20999', responseText: 'Not reached' },
      ],
    });
    const sent = command();
    const outcome = await client().send(sent);

    expect(outcome).toMatchObject({
      kind: 'rejected',
      errorCode: 'CAG_20117',
      errorDescription: 'Smartcard is blacklisted',
    });
    if (outcome.kind !== 'rejected') return;
    expect(JSON.parse(outcome.response).commandResults).toHaveLength(3);
    expect(JSON.parse(outcome.request).headers['x-correlation-id']).toBe(sent.transactionId);
  });

  it('counts a command as OK when its code is in okCodes, whatever its text', async () => {
    simulator.setDevice(KNOWN, { commands: [{ responseCode: '00000:201', responseText: 'Queued for the CAS' }] });

    expect(await client({ okCodes: ['00000:201'] }).send(command())).toMatchObject({ kind: 'accepted' });
    expect(await client().send(command())).toMatchObject({
      kind: 'rejected',
      errorCode: 'CAG_00000:201',
      errorDescription: 'Queued for the CAS',
    });
  });

  it('reports a failed command whose code is in transientCodes as transient, with the code in detail', async () => {
    simulator.setDevice(KNOWN, { commands: [{ responseCode: '30503', responseText: 'CAS busy' }] });
    const outcome = await client({ transientCodes: ['30503'] }).send(command());

    expect(outcome).toEqual({ kind: 'transient', reason: 'CAG_TRANSIENT', status: 200, detail: '30503' });
  });

  it('rejects an unknown device (HTTP 404) as UNKNOWN_SMARTCARD, described from the body', async () => {
    const outcome = await client().send(command({ smartcardCaId: UNKNOWN }));

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'UNKNOWN_SMARTCARD' });
    if (outcome.kind !== 'rejected') return;
    expect(outcome.errorDescription).toContain(UNKNOWN);
    expect(JSON.parse(outcome.response)).toMatchObject({ resultCode: '99999:404' });
    expect(JSON.parse(outcome.request).path).toBe(`/cag/v1/cas%2001/devices/${UNKNOWN}/pin`);
    expect(simulator.callsFor(UNKNOWN)).toBe(1);
    expect(simulator.executionsFor(UNKNOWN)).toBe(0);
  });

  it('sends a device id with a lone surrogate (made well-formed) instead of throwing', async () => {
    const outcome = await client().send(command({ smartcardCaId: 'smrt\uD800' }));
    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'UNKNOWN_SMARTCARD' });
  });

  it('rejects HTTP 400 as CAG_BAD_REQUEST, described from the body', async () => {
    // An empty header value is a missing header for the gateway.
    const outcome = await client({ tenantId: '' }).send(command());

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'CAG_BAD_REQUEST' });
    if (outcome.kind !== 'rejected') return;
    expect(outcome.errorDescription).toContain('nv-tenant-id');
    expect(simulator.callsFor(KNOWN)).toBe(1);
    expect(simulator.executionsFor(KNOWN)).toBe(0);
  });

  it.each([401, 403, '99999:403'] as const)('renews the token once and sends again after a %s refusal', async (as) => {
    const headend = client();
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    simulator.reset();
    simulator.refuseNext(1, as);

    const outcome = await headend.send(command());

    expect(outcome).toMatchObject({ kind: 'accepted' });
    expect(simulator.callsFor(KNOWN)).toBe(2);
    expect(simulator.executionsFor(KNOWN)).toBe(1);
    // The refresh token still lived, so the renewal used it.
    expect(simulator.tokenRequests()).toEqual({ password: 0, refresh: 1 });
  });

  it.each([
    [401, 401],
    [403, 403],
    ['99999:403', 200],
  ] as const)('reports a %s refusal of the renewed token too as transient UNAUTHORIZED', async (as, status) => {
    simulator.refuseNext(2, as);
    const outcome = await client().send(command());

    expect(outcome).toEqual({ kind: 'transient', reason: 'UNAUTHORIZED', status });
    expect(simulator.callsFor(KNOWN)).toBe(2);
    expect(simulator.executionsFor(KNOWN)).toBe(0);
  });

  it('reports a tenant or operator the token is not entitled to as UNAUTHORIZED after one renewal', async () => {
    const outcome = await client({ operator: 'OTHER' }).send(command());

    expect(outcome).toEqual({ kind: 'transient', reason: 'UNAUTHORIZED', status: 403 });
    expect(simulator.callsFor(KNOWN)).toBe(2);
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 1 });
  });

  it('logs in again with the password when the session was ended and the refresh token is refused', async () => {
    const headend = client();
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    simulator.revokeTokens();

    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.callsFor(KNOWN)).toBe(3);
    expect(simulator.tokenRequests()).toEqual({ password: 2, refresh: 1 });
  });

  it('caches the token: many calls, one password grant', async () => {
    const headend = client();
    for (let index = 0; index < 10; index += 1) {
      expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    }
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 0 });
  });

  it('shares one password grant among 20 concurrent first calls', async () => {
    simulator.setTokenFaults({ latencyMs: 100 });
    const headend = client();
    const sent = await Promise.all(Array.from({ length: 20 }, () => headend.send(command())));

    expect(sent.map((outcome) => outcome.kind)).toEqual(Array(20).fill('accepted'));
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 0 });
  });

  it('renews with the refresh grant shortly before the access token expires, not after', async () => {
    const headend = client();
    await headend.send(command());
    // 1 s tokens are renewed in their last 100 ms: at 950 ms the old one would still have been accepted.
    advance(950);
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 1 });
    expect(simulator.callsFor(KNOWN)).toBe(2);

    advance(500);
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 1 });
  });

  it('shares one refresh grant among 20 concurrent calls that find the token due', async () => {
    const headend = client();
    await headend.send(command());
    advance(950);
    simulator.setTokenFaults({ latencyMs: 100 });
    const sent = await Promise.all(Array.from({ length: 20 }, () => headend.send(command())));

    expect(sent.map((outcome) => outcome.kind)).toEqual(Array(20).fill('accepted'));
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 1 });
    expect(simulator.callsFor(KNOWN)).toBe(21);
  });

  it('logs in with the password again once the refresh token has expired too', async () => {
    const headend = client();
    await headend.send(command());
    advance(2_500);

    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.tokenRequests()).toEqual({ password: 2, refresh: 0 });
    expect(simulator.callsFor(KNOWN)).toBe(2);
  });

  it('reports wrong operator credentials as transient UNAUTHORIZED and reads the secret again next time', async () => {
    let stored: CagOperatorAccount = { ...ACCOUNT, password: 'Wr0ng-Pa55-0bd3' };
    let cached: CagOperatorAccount | undefined;
    // Caches like the Secrets Manager credential: the stored value is read only when nothing is cached.
    const credential: Credential<CagOperatorAccount> = {
      get: async () => {
        cached ??= stored;
        return cached;
      },
      refresh: () => {
        cached = undefined;
      },
    };
    const headend = client({ credential });

    expect(await headend.send(command())).toEqual({
      kind: 'transient',
      reason: 'UNAUTHORIZED',
      detail: 'token endpoint: HTTP 401 invalid_grant',
    });
    expect(simulator.callsFor(KNOWN)).toBe(0);
    stored = ACCOUNT;
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.tokenRequests()).toEqual({ password: 2, refresh: 0 });
  });

  it('reports a client the token endpoint does not know as transient UNAUTHORIZED', async () => {
    expect(await client({ clientId: 'not-registered' }).send(command())).toEqual({
      kind: 'transient',
      reason: 'UNAUTHORIZED',
      detail: 'token endpoint: HTTP 401 invalid_client',
    });
  });

  it('reports an operator secret that cannot be read as SECRET_UNAVAILABLE without calling anyone', async () => {
    const outcome = await client({
      credential: {
        get: async () => {
          throw new Error(`could not parse ${ACCOUNT.password}`);
        },
        refresh: () => undefined,
      },
    }).send(command());

    expect(outcome).toEqual({ kind: 'transient', reason: 'SECRET_UNAVAILABLE', detail: 'Error' });
    expect(simulator.tokenRequests()).toEqual({ password: 0, refresh: 0 });
    expect(simulator.callsFor(KNOWN)).toBe(0);
  });

  it('reports a token endpoint that is down as TOKEN_UNAVAILABLE, and does not keep the failure', async () => {
    simulator.setTokenFaults({ down: true });
    const headend = client();

    expect(await headend.send(command())).toEqual({
      kind: 'transient',
      reason: 'TOKEN_UNAVAILABLE',
      detail: 'token endpoint: ECONNRESET',
    });
    expect(simulator.callsFor(KNOWN)).toBe(0);

    simulator.setTokenFaults({});
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
  });

  it('reports a token endpoint answering 503 as TOKEN_UNAVAILABLE', async () => {
    simulator.setTokenFaults({ failRate: 1 });
    expect(await client().send(command())).toEqual({
      kind: 'transient',
      reason: 'TOKEN_UNAVAILABLE',
      detail: 'token endpoint: HTTP 503',
    });
  });

  it('reports a token endpoint that never answers as TOKEN_UNAVAILABLE after its timeout', async () => {
    simulator.setTokenFaults({ timeout: true });
    expect(await client({ timeoutMs: 300 }).send(command())).toEqual({
      kind: 'transient',
      reason: 'TOKEN_UNAVAILABLE',
      detail: 'token endpoint: TIMEOUT',
    });
  });

  it('reports a token endpoint nobody listens on as TOKEN_UNAVAILABLE', async () => {
    const closed = await startHeadendSimulator({ protocol: 'nagra-cag' });
    await closed.stop();
    expect(await client({ tokenUrl: closed.tokenUrl }).send(command())).toEqual({
      kind: 'transient',
      reason: 'TOKEN_UNAVAILABLE',
      detail: 'token endpoint: ECONNREFUSED',
    });
  });

  it('keeps using a token that still lives while the token endpoint is away, then reports it', async () => {
    const headend = client();
    await headend.send(command());
    simulator.setTokenFaults({ down: true });
    advance(950);

    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    advance(100);
    expect(await headend.send(command())).toMatchObject({ kind: 'transient', reason: 'TOKEN_UNAVAILABLE' });
    expect(simulator.callsFor(KNOWN)).toBe(2);
  });

  it('reports 503s of the gateway as SERVER_ERROR and 429s as RATE_LIMITED', async () => {
    simulator.setFaults({ failRate: 1 });
    expect(await client().send(command())).toEqual({ kind: 'transient', reason: 'SERVER_ERROR', status: 503 });

    simulator.setFaults({ rateLimitPerSecond: 1 });
    const headend = client();
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(await headend.send(command())).toEqual({ kind: 'transient', reason: 'RATE_LIMITED', status: 429 });
  });

  it('reports a gateway that resets connections as CONNECTION_ERROR, and succeeds once it is back', async () => {
    simulator.setFaults({ down: true });
    const headend = client();
    expect(await headend.send(command())).toMatchObject({ kind: 'transient', reason: 'CONNECTION_ERROR' });
    expect(simulator.executionsFor(KNOWN)).toBe(0);

    simulator.setFaults({});
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
    expect(simulator.tokenRequests()).toEqual({ password: 1, refresh: 0 });
  });

  it('reports a gateway that never answers as TIMEOUT after its own timeout', async () => {
    simulator.setFaults({ timeout: true });
    expect(await client({ timeoutMs: 300 }).send(command())).toEqual({ kind: 'transient', reason: 'TIMEOUT' });
    expect(simulator.callsReceived()).toBe(1);
  });

  it("stops at once when the caller's signal aborts during the call", async () => {
    simulator.setFaults({ timeout: true });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 30_000 }).send(command(), controller.signal);
    while (simulator.callsReceived() === 0) await sleep(10);
    controller.abort();

    expect(await pending).toEqual({ kind: 'transient', reason: 'ABORTED' });
  });

  it("stops at once when the caller's signal aborts while the token is being fetched", async () => {
    simulator.setTokenFaults({ timeout: true });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 30_000 }).send(command(), controller.signal);
    // The token request hangs unseen (the fault answers nothing); whenever the abort comes, the send ends with it.
    await sleep(100);
    controller.abort();

    expect(await pending).toEqual({ kind: 'transient', reason: 'ABORTED' });
    expect(simulator.callsReceived()).toBe(0);
  });

  it('never has more calls in flight than its concurrency cap, and sends every command', async () => {
    simulator.setFaults({ latencyMs: 100 });
    const headend = client({ maxConcurrency: 3 });
    const sent = await Promise.all(Array.from({ length: 12 }, () => headend.send(command())));

    expect(sent.map((outcome) => outcome.kind)).toEqual(Array(12).fill('accepted'));
    expect(simulator.maxInFlight()).toBe(3);
    expect(simulator.executionsFor(KNOWN)).toBe(12);
  });

  it('stays under the gateway rate limit with its own per-second cap', async () => {
    // Without the cap the fifth call would be refused; 4 rather than 3 leaves room for two pairs of calls one
    // second apart whose arrivals jitter into one window of the gateway's.
    simulator.setFaults({ rateLimitPerSecond: 4 });
    const headend = client({ maxPerSecond: 2 });
    const sent = await Promise.all(Array.from({ length: 5 }, () => headend.send(command())));

    expect(sent.map((outcome) => outcome.kind)).toEqual(Array(5).fill('accepted'));
    expect(simulator.callsReceived()).toBe(5);
  });

  it('never put a token, refresh token or the password in any outcome of the tests above', () => {
    expect(new Set(outcomes.map((outcome) => outcome.kind))).toEqual(new Set(['accepted', 'rejected', 'transient']));
    expect(issuedTokens.length).toBeGreaterThan(10);
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome);
      expect(text).not.toContain(ACCOUNT.password);
      expect(text).not.toContain('Wr0ng-Pa55-0bd3');
      expect(text).not.toMatch(/tok-[0-9a-f-]{36}/);
    }
  });
});

describe('CAG adapter against tokens that expire within seconds on the real clock', () => {
  it('renews by refresh, then by password once the refresh token has expired, losing no call', async () => {
    const real = await startHeadendSimulator({ protocol: 'nagra-cag', ...SETTINGS, ...ACCOUNT });
    try {
      const headend = createCagHeadendClient({
        baseUrl: real.url,
        tokenUrl: real.tokenUrl,
        credential: fixedCredential(ACCOUNT),
        okCodes: [],
        transientCodes: [],
        timeoutMs: 5_000,
        ...SETTINGS,
      });
      const sent: HeadendOutcome[] = [await headend.send(command())];
      await sleep(1_000);
      sent.push(await headend.send(command()));
      expect(real.tokenRequests()).toEqual({ password: 1, refresh: 1 });
      await sleep(2_100);
      sent.push(await headend.send(command()));

      expect(sent.map((outcome) => outcome.kind)).toEqual(['accepted', 'accepted', 'accepted']);
      expect(real.tokenRequests()).toEqual({ password: 2, refresh: 1 });
      // Renewed before the gateway could refuse: no call was sent twice.
      expect(real.callsFor(KNOWN)).toBe(3);
    } finally {
      await real.stop();
    }
  });
});

describe('CAG adapter against a gateway the project did not write', () => {
  type Seen = { method?: string; url?: string; headers: IncomingMessage['headers']; body: string };
  const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.opaque-access.9c1f';
  const REFRESH = 'eyJhbGciOiJIUzI1NiJ9.opaque-refresh.77ad';
  let server: Server;
  let url: string;
  let seen: Seen[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url === '/auth/token') {
        const grant = { access_token: TOKEN, expires_in: 300, refresh_token: REFRESH, refresh_expires_in: 1800 };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(grant));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen = [];
  });

  const foreign = (overrides: Partial<CagHeadendOptions> = {}) =>
    createCagHeadendClient({
      baseUrl: `${url}/gateway/`,
      tokenUrl: `${url}/auth/token`,
      credential: fixedCredential({ username: 'user@example.com', password: 'p&ss=w0rd+1' }),
      okCodes: [],
      transientCodes: [],
      timeoutMs: 2_000,
      ...SETTINGS,
      ...overrides,
    });

  const reply = (status: number, body: unknown) => {
    answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
  };

  it('sends a form-encoded password grant, then the PUT with its headers and no body', async () => {
    reply(200, { commandResults: [{ id: 'ref-1', responseCode: '0', responseText: 'OK' }] });
    const sent = command({ smartcardCaId: 'card/1 ü' });
    expect(await foreign().send(sent)).toMatchObject({ kind: 'accepted', referenceNumber: 'ref-1' });

    const [grant, put] = seen;
    expect(grant?.method).toBe('POST');
    expect(grant?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(grant?.body))).toEqual({
      grant_type: 'password',
      client_id: 'crm-clear-pin',
      username: 'user@example.com',
      password: 'p&ss=w0rd+1',
    });
    expect(put?.method).toBe('PUT');
    expect(put?.url).toBe('/gateway/cag/v1/cas%2001/devices/card%2F1%20%C3%BC/pin');
    expect(put?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'nv-tenant-id': 'tenant-7',
      operator: 'OPCO',
      'x-correlation-id': sent.transactionId,
    });
    expect(put?.body).toBe('');
    expect(seen).toHaveLength(2);
  });

  it('reads codes and ids sent as numbers as their strings', async () => {
    reply(200, { commandResults: [{ id: 4711, responseCode: 0, responseText: 'Done' }] });
    expect(await foreign({ okCodes: ['0'] }).send(command())).toMatchObject({
      kind: 'accepted',
      referenceNumber: '4711',
    });
    reply(200, { commandResults: [{ _id: 'a1', responseCode: 42, responseText: 'No such PIN' }] });
    expect(await foreign().send(command())).toMatchObject({ kind: 'rejected', errorCode: 'CAG_42' });
  });

  it.each([
    ['an HTML page', '<html>Gateway</html>'],
    ['no commands', { status: 'Success', commandCount: 0, commandResults: [] }],
    ['commands that are not objects', { commandResults: ['OK'] }],
    ['all OK but no id on the first command', { commandResults: [{ responseCode: '0', responseText: 'OK' }] }],
    ['a failed command without a code', { commandResults: [{ id: 'x', responseText: 'Failed' }] }],
  ])('treats HTTP 200 with %s as transient INVALID_RESPONSE', async (_case, body) => {
    reply(200, body);
    expect(await foreign().send(command())).toEqual({ kind: 'transient', reason: 'INVALID_RESPONSE', status: 200 });
  });

  it('never stores the access token, even when the gateway echoes it', async () => {
    reply(400, { message: `Bad header in: Authorization: Bearer ${TOKEN}` });
    const outcome = await foreign().send(command());

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'CAG_BAD_REQUEST' });
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(JSON.stringify(outcome)).not.toContain(REFRESH);
    expect(JSON.stringify(outcome)).toContain('[REDACTED]');
  });

  it('treats a body with resultCode 99999:403 as a refusal whatever the status', async () => {
    reply(400, { resultCode: '99999:403', resultText: 'Forbidden' });
    const outcome = await foreign().send(command());

    expect(outcome).toEqual({ kind: 'transient', reason: 'UNAUTHORIZED', status: 400 });
    // Grant, PUT, refresh grant, PUT.
    expect(seen.map((call) => call.method)).toEqual(['POST', 'PUT', 'POST', 'PUT']);
    expect(new URLSearchParams(seen[2]?.body).get('grant_type')).toBe('refresh_token');
    expect(new URLSearchParams(seen[2]?.body).get('refresh_token')).toBe(REFRESH);
  });

  it('rejects another 4xx as HEADEND_PROTOCOL_ERROR, storing at most 2,048 characters of the reply', async () => {
    reply(409, 'x'.repeat(5_000));
    const outcome = await foreign().send(command());

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'HEADEND_PROTOCOL_ERROR' });
    if (outcome.kind !== 'rejected') return;
    expect(outcome.errorDescription).toContain('409');
    expect(outcome.response).toHaveLength(2_048);
  });

  it('gives 400 and 404 without a readable body a description of its own', async () => {
    reply(404, '<html>Not Found</html>');
    expect(await foreign().send(command({ smartcardCaId: 'smrt123' }))).toMatchObject({
      kind: 'rejected',
      errorCode: 'UNKNOWN_SMARTCARD',
      errorDescription: 'The CAS gateway does not know the device smrt123.',
      response: '<html>Not Found</html>',
    });
    reply(400, '');
    expect(await foreign().send(command())).toMatchObject({
      kind: 'rejected',
      errorCode: 'CAG_BAD_REQUEST',
      errorDescription: 'The CAS gateway refused the command as malformed (HTTP 400).',
    });
  });

  it('treats a redirect as transient UNEXPECTED_STATUS rather than following it', async () => {
    reply(302, '');
    expect(await foreign().send(command())).toEqual({ kind: 'transient', reason: 'UNEXPECTED_STATUS', status: 302 });
    expect(seen.filter((call) => call.method === 'PUT')).toHaveLength(1);
  });
});
