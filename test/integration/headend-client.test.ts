import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedCredential } from '../../functions/adapters/headend/credential.ts';
import { createGenericHeadendClient, type GenericHeadendOptions } from '../../functions/adapters/headend/generic.ts';
import type { HeadendClient, HeadendCommand, HeadendOutcome } from '../../functions/use-cases/ports.ts';
import { type HeadendSimulator, startHeadendSimulator } from '../../infra/local/headend-simulator.ts';

const SECRET = 'correct-horse-battery-staple-7731';
const WRONG_SECRET = 'wrong-secret-value-0042';
const KNOWN_CARD = 'smrt200000';
const UNKNOWN_CARD = 'smrt299999';

let simulator: HeadendSimulator;
// Draws the simulator uses to decide which calls fail under failRate; 0.99 (no failure) once exhausted.
let draws: number[] = [];

function client(overrides: Partial<GenericHeadendOptions> = {}): HeadendClient {
  return createGenericHeadendClient({
    url: simulator.url,
    secret: fixedCredential(SECRET),
    timeoutMs: 5000,
    ...overrides,
  });
}

function command(overrides: Partial<HeadendCommand> = {}): HeadendCommand {
  return {
    transactionId: randomUUID().replaceAll('-', '').toUpperCase(),
    smartcardCaId: KNOWN_CARD,
    priority: 'REGULAR',
    ...overrides,
  };
}

async function admin(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${simulator.url}${path}`, init);
}

beforeAll(async () => {
  simulator = await startHeadendSimulator({
    secret: SECRET,
    knownCards: [KNOWN_CARD],
    random: () => draws.shift() ?? 0.99,
  });
});

afterAll(async () => {
  await simulator.stop();
});

beforeEach(() => {
  simulator.reset();
  draws = [];
});

describe('generic headend client against the headend simulator', () => {
  it('gets a command for a known smartcard accepted, with the command and reply as JSON text', async () => {
    const sent = command({ priority: 'EXPRESS' });
    const outcome = await client().send(sent);

    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    expect(outcome.referenceNumber).not.toBe('');
    expect(JSON.parse(outcome.request)).toEqual({
      command: 'CLEAR_PIN',
      transaction_id: sent.transactionId,
      smartcard_ca_id: KNOWN_CARD,
      priority: 'EXPRESS',
    });
    expect(JSON.parse(outcome.response)).toEqual({ result: 'ACCEPTED', reference_number: outcome.referenceNumber });
    expect(simulator.executions(sent.transactionId)).toBe(1);
  });

  it('gives each accepted command its own reference number', async () => {
    const headend = client();
    const outcomes = await Promise.all([headend.send(command()), headend.send(command()), headend.send(command())]);
    const references = outcomes.map((outcome) =>
      outcome.kind === 'accepted' ? outcome.referenceNumber : outcome.kind,
    );
    expect(new Set(references).size).toBe(3);
  });

  it('reports an unknown smartcard as a permanent UNKNOWN_SMARTCARD rejection', async () => {
    const sent = command({ smartcardCaId: UNKNOWN_CARD });
    const outcome = await client().send(sent);

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'UNKNOWN_SMARTCARD' });
    if (outcome.kind !== 'rejected') return;
    expect(outcome.errorDescription).toContain(UNKNOWN_CARD);
    expect(JSON.parse(outcome.response)).toMatchObject({ result: 'REJECTED', error_code: 'UNKNOWN_SMARTCARD' });
    expect(JSON.parse(outcome.request)).toMatchObject({ transaction_id: sent.transactionId });
    expect(simulator.callsReceived()).toBe(1);
    expect(simulator.executions(sent.transactionId)).toBe(1);
  });

  it('reports a wrong secret as transient UNAUTHORIZED and executes nothing', async () => {
    const sent = command();
    const outcome = await client({ secret: fixedCredential(WRONG_SECRET) }).send(sent);

    expect(outcome).toEqual({ kind: 'transient', reason: 'UNAUTHORIZED', status: 401 });
    expect(simulator.callsReceived()).toBe(1);
    expect(simulator.executions(sent.transactionId)).toBe(0);
  });

  it('reads a refused secret again at the next call, so a corrected value works without a restart', async () => {
    let stored = WRONG_SECRET;
    let cached: string | undefined;
    // Caches like the Secrets Manager credential: the stored value is read only when nothing is cached.
    const secret = {
      get: async () => {
        cached ??= stored;
        return cached;
      },
      refresh: () => {
        cached = undefined;
      },
    };
    const headend = client({ secret });

    expect(await headend.send(command())).toMatchObject({ kind: 'transient', reason: 'UNAUTHORIZED' });
    stored = SECRET;
    expect(await headend.send(command())).toMatchObject({ kind: 'accepted' });
  });

  it('answers transient TIMEOUT when the headend never replies, after its own timeout', async () => {
    simulator.setFaults({ timeout: true });
    const sent = command();
    const outcome = await client({ timeoutMs: 300 }).send(sent);

    expect(outcome).toEqual({ kind: 'transient', reason: 'TIMEOUT' });
    expect(simulator.callsReceived()).toBe(1);
    expect(simulator.executions(sent.transactionId)).toBe(0);
  }, 10_000);

  it("stops at once when the caller's signal aborts", async () => {
    simulator.setFaults({ timeout: true });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 30_000 }).send(command(), controller.signal);
    setTimeout(() => controller.abort(), 100);

    expect(await pending).toEqual({ kind: 'transient', reason: 'ABORTED' });
    expect(simulator.callsReceived()).toBe(1);
  }, 10_000);

  it('reports a headend that resets connections as transient, and succeeds once it is back', async () => {
    simulator.setFaults({ down: true });
    const sent = command();
    const headend = client();

    expect(await headend.send(sent)).toMatchObject({ kind: 'transient', reason: 'CONNECTION_ERROR' });
    expect(simulator.executions(sent.transactionId)).toBe(0);

    simulator.setFaults({});
    expect(await headend.send(sent)).toMatchObject({ kind: 'accepted' });
    expect(simulator.executions(sent.transactionId)).toBe(1);
  });

  it('reports a closed port as transient CONNECTION_ERROR', async () => {
    const closed = await startHeadendSimulator();
    await closed.stop();
    const outcome = await client({ url: closed.url }).send(command());
    expect(outcome).toEqual({ kind: 'transient', reason: 'CONNECTION_ERROR', detail: 'ECONNREFUSED' });
  });

  it('reports calls above the headend rate limit as transient 429', async () => {
    simulator.setFaults({ rateLimitPerSecond: 2 });
    const headend = client();

    const outcomes: HeadendOutcome[] = [];
    for (let index = 0; index < 4; index += 1) outcomes.push(await headend.send(command()));

    expect(outcomes.slice(0, 2).map((outcome) => outcome.kind)).toEqual(['accepted', 'accepted']);
    expect(outcomes.slice(2)).toEqual([
      { kind: 'transient', reason: 'RATE_LIMITED', status: 429 },
      { kind: 'transient', reason: 'RATE_LIMITED', status: 429 },
    ]);
    expect(simulator.totalExecutions()).toBe(2);
  });

  it('stays under the headend rate limit with its own per-second cap', async () => {
    simulator.setFaults({ rateLimitPerSecond: 3 });
    const headend = client({ maxPerSecond: 2 });

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => headend.send(command())));

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(5).fill('accepted'));
    expect(simulator.callsReceived()).toBe(5);
  }, 10_000);

  it('is idempotent on the transaction: a repeat returns the first result and executes nothing more', async () => {
    const sent = command();
    const headend = client();
    const first = await headend.send(sent);
    const second = await headend.send(sent);

    expect(first.kind).toBe('accepted');
    expect(second).toEqual(first);
    expect(simulator.callsReceived()).toBe(2);
    expect(simulator.executions(sent.transactionId)).toBe(1);
    expect(simulator.maxExecutionsPerTransaction()).toBe(1);
  });

  it('executes a transaction once even when repeats race each other', async () => {
    simulator.setFaults({ latencyMs: 50 });
    const sent = command({ smartcardCaId: UNKNOWN_CARD });
    const headend = client();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => headend.send(sent)));

    expect(new Set(outcomes.map((outcome) => JSON.stringify(outcome))).size).toBe(1);
    expect(outcomes[0]).toMatchObject({ kind: 'rejected', errorCode: 'UNKNOWN_SMARTCARD' });
    expect(simulator.totalExecutions()).toBe(1);
  });

  it('never has more calls in flight than its concurrency cap, and sends every command', async () => {
    simulator.setFaults({ latencyMs: 100 });
    const headend = client({ maxConcurrency: 3 });
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => headend.send(command())));

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(12).fill('accepted'));
    expect(simulator.maxInFlight()).toBe(3);
    expect(simulator.totalExecutions()).toBe(12);
  });

  it('rejects a command the headend finds malformed as HEADEND_PROTOCOL_ERROR', async () => {
    const sent = command({ smartcardCaId: '' });
    const outcome = await client().send(sent);

    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'HEADEND_PROTOCOL_ERROR' });
    if (outcome.kind !== 'rejected') return;
    expect(outcome.errorDescription).toContain('400');
    expect(JSON.parse(outcome.response)).toMatchObject({ result: 'BAD_REQUEST' });
    expect(simulator.callsReceived()).toBe(1);
    expect(simulator.totalExecutions()).toBe(0);
  });

  it('reports a secret that cannot be resolved as transient SECRET_UNAVAILABLE without calling the headend', async () => {
    const outcome = await client({
      secret: {
        get: async () => {
          throw new Error(`could not decrypt ${SECRET}`);
        },
        refresh: () => undefined,
      },
    }).send(command());

    expect(outcome).toMatchObject({ kind: 'transient', reason: 'SECRET_UNAVAILABLE' });
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
    expect(simulator.callsReceived()).toBe(0);
  });

  it('never puts the secret in an outcome, whatever happens', async () => {
    const outcomes: HeadendOutcome[] = [];
    outcomes.push(await client().send(command()));
    outcomes.push(await client().send(command({ smartcardCaId: UNKNOWN_CARD })));
    outcomes.push(await client().send(command({ smartcardCaId: '' })));
    outcomes.push(await client({ secret: fixedCredential(WRONG_SECRET) }).send(command()));
    simulator.setFaults({ failRate: 1 });
    outcomes.push(await client().send(command()));
    simulator.setFaults({ down: true });
    outcomes.push(await client().send(command()));
    simulator.setFaults({ timeout: true });
    outcomes.push(await client({ timeoutMs: 200 }).send(command()));

    expect(new Set(outcomes.map((outcome) => outcome.kind))).toEqual(new Set(['accepted', 'rejected', 'transient']));
    for (const outcome of outcomes) {
      expect(JSON.stringify(outcome)).not.toContain(SECRET);
      expect(JSON.stringify(outcome)).not.toContain(WRONG_SECRET);
    }
  }, 10_000);
});

describe('generic headend client against a misbehaving headend', () => {
  let server: Server;
  let url: string;
  let answer: { status: number; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'text/html' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    [200, '<html>Gateway</html>'],
    [200, '{"result":"ACCEPTED"}'],
    [422, 'not json'],
    [422, '{"result":"REJECTED"}'],
  ])('treats HTTP %i with the body %s as transient INVALID_RESPONSE', async (status, body) => {
    answer = { status, body };
    const outcome = await createGenericHeadendClient({ url, secret: fixedCredential(SECRET), timeoutMs: 2000 }).send(
      command(),
    );
    expect(outcome).toEqual({ kind: 'transient', reason: 'INVALID_RESPONSE', status });
  });

  it('treats a redirect as transient UNEXPECTED_STATUS rather than following it', async () => {
    answer = { status: 302, body: '' };
    const outcome = await createGenericHeadendClient({ url, secret: fixedCredential(SECRET), timeoutMs: 2000 }).send(
      command(),
    );
    expect(outcome).toEqual({ kind: 'transient', reason: 'UNEXPECTED_STATUS', status: 302 });
  });
});

describe('headend simulator admin endpoints', () => {
  it('sets faults, reports stats and resets over HTTP', async () => {
    const put = await admin('/admin/faults', { method: 'PUT', body: JSON.stringify({ failRate: 1 }) });
    expect(put.status).toBe(200);
    expect(await client().send(command())).toMatchObject({ kind: 'transient', status: 503 });

    const stats = await admin('/admin/stats');
    expect(await stats.json()).toEqual({ calls: 1, executions: 0, maxExecutionsPerTransaction: 0, maxInFlight: 1 });

    expect((await admin('/admin/reset', { method: 'POST' })).status).toBe(204);
    expect(await (await admin('/admin/stats')).json()).toMatchObject({ calls: 0, executions: 0 });
    expect(await client().send(command())).toMatchObject({ kind: 'accepted' });
  });

  it('refuses faults it does not understand', async () => {
    const unknown = await admin('/admin/faults', { method: 'PUT', body: JSON.stringify({ explode: true }) });
    expect(unknown.status).toBe(400);
    const outOfRange = await admin('/admin/faults', { method: 'PUT', body: JSON.stringify({ failRate: 2 }) });
    expect(outOfRange.status).toBe(400);
    expect(await client().send(command())).toMatchObject({ kind: 'accepted' });
  });

  it('stops promptly while a call hangs on the timeout fault', async () => {
    const hung = await startHeadendSimulator({ secret: SECRET, faults: { timeout: true } });
    const pending = client({ url: hung.url, timeoutMs: 60_000 }).send(command());
    while (hung.callsReceived() === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    await hung.stop();
    expect(await pending).toMatchObject({ kind: 'transient', reason: 'CONNECTION_ERROR' });
  });
});
