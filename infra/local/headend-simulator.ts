import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type HeadendFaults = {
  /** Added before every command is answered. */
  latencyMs?: number;
  /** Share of commands answered 503, 0..1. */
  failRate?: number;
  /** Accept commands but never answer them. */
  timeout?: boolean;
  /** Commands above this many in any sliding second are answered 429. */
  rateLimitPerSecond?: number;
  /** Connections are reset. */
  down?: boolean;
};

export type HeadendSimulatorOptions = {
  port?: number;
  host?: string;
  secret?: string;
  knownCards?: string[];
  faults?: HeadendFaults;
  /** Decides which calls fail under `failRate`; inject for deterministic tests. */
  random?: () => number;
};

export interface HeadendSimulator {
  url: string;
  port: number;
  setFaults(faults: HeadendFaults): void;
  /** How many times the command of this transaction was executed (0 or 1 for a correct headend). */
  executions(transactionId: string): number;
  totalExecutions(): number;
  maxExecutionsPerTransaction(): number;
  /** `POST /commands` calls received, faulted ones included. */
  callsReceived(): number;
  /** The most `POST /commands` calls open at the same time. */
  maxInFlight(): number;
  /** Forgets results and counters and restores the faults given at start. */
  reset(): void;
  stop(): Promise<void>;
}

export const DEFAULT_HEADEND_SECRET = 'local-headend-secret';
export const DEFAULT_KNOWN_CARDS: readonly string[] = ['smrt200000', 'smrt200001'];

const MAX_BODY_BYTES = 16 * 1024;
const RATE_WINDOW_MS = 1000;
const COMMAND_FIELDS = new Set(['command', 'transaction_id', 'smartcard_ca_id', 'priority']);
const FAULT_FIELDS = new Set(['latencyMs', 'failRate', 'timeout', 'rateLimitPerSecond', 'down']);

type Reply = { status: number; body: Record<string, unknown> };
type Command = { transactionId: string; smartcardCaId: string };

export async function startHeadendSimulator(options: HeadendSimulatorOptions = {}): Promise<HeadendSimulator> {
  const host = options.host ?? '127.0.0.1';
  const secretDigest = digest(options.secret ?? DEFAULT_HEADEND_SECRET);
  const knownCards = new Set(options.knownCards ?? DEFAULT_KNOWN_CARDS);
  const random = options.random ?? Math.random;
  const initialFaults = { ...options.faults };
  // Aborts pending latency sleeps so stop() leaves no timers behind.
  const lifetime = new AbortController();

  let faults: HeadendFaults = { ...initialFaults };
  const results = new Map<string, Reply>();
  const executionCounts = new Map<string, number>();
  let admittedAt: number[] = [];
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  function overRate(limit: number): boolean {
    const now = Date.now();
    admittedAt = admittedAt.filter((at) => at > now - RATE_WINDOW_MS);
    if (admittedAt.length >= limit) return true;
    admittedAt.push(now);
    return false;
  }

  function execute(command: Command): Reply {
    executionCounts.set(command.transactionId, (executionCounts.get(command.transactionId) ?? 0) + 1);
    if (knownCards.has(command.smartcardCaId)) {
      return {
        status: 200,
        body: { result: 'ACCEPTED', reference_number: randomUUID().replaceAll('-', '').toUpperCase() },
      };
    }
    return {
      status: 422,
      body: {
        result: 'REJECTED',
        error_code: 'UNKNOWN_SMARTCARD',
        error_description: `The headend does not know the smartcard CA id ${command.smartcardCaId}.`,
      },
    };
  }

  async function handleCommand(req: IncomingMessage, res: ServerResponse): Promise<void> {
    calls += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => {
      inFlight -= 1;
    });
    const active = faults;
    if (active.down) {
      req.socket.resetAndDestroy();
      return;
    }
    // Left unanswered on purpose; stop() closes such connections.
    if (active.timeout) return;
    const limited = active.rateLimitPerSecond !== undefined && overRate(active.rateLimitPerSecond);
    const raw = await readBody(req);
    if (active.latencyMs !== undefined && active.latencyMs > 0) {
      try {
        await sleep(active.latencyMs, undefined, { signal: lifetime.signal });
      } catch {
        return;
      }
    }
    if (limited) return reply(res, 429, { result: 'RATE_LIMITED' });
    if (active.failRate !== undefined && active.failRate > 0 && random() < active.failRate) {
      return reply(res, 503, { result: 'UNAVAILABLE' });
    }
    if (!authorized(req.headers.authorization, secretDigest)) return reply(res, 401, { result: 'UNAUTHORIZED' });
    if (raw === undefined) return reply(res, 413, { result: 'BAD_REQUEST', error_description: 'Body too large.' });
    const parsed = parseCommand(raw);
    if (typeof parsed === 'string') return reply(res, 400, { result: 'BAD_REQUEST', error_description: parsed });
    let result = results.get(parsed.transactionId);
    if (result === undefined) {
      result = execute(parsed);
      results.set(parsed.transactionId, result);
    }
    return reply(res, result.status, result.body);
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/admin/stats' && req.method === 'GET') {
      return reply(res, 200, {
        calls,
        executions: totalExecutions(),
        maxExecutionsPerTransaction: maxExecutionsPerTransaction(),
        maxInFlight,
      });
    }
    if (path === '/admin/faults' && req.method === 'GET') return reply(res, 200, { ...faults });
    if (path === '/admin/faults' && req.method === 'PUT') {
      const raw = await readBody(req);
      const parsed = raw === undefined ? 'Body too large.' : parseFaults(raw);
      if (typeof parsed === 'string') return reply(res, 400, { result: 'BAD_REQUEST', error_description: parsed });
      faults = parsed;
      return reply(res, 200, { ...faults });
    }
    if (path === '/admin/reset' && req.method === 'POST') {
      reset();
      res.writeHead(204).end();
      return;
    }
    return reply(res, 404, { result: 'NOT_FOUND' });
  }

  function totalExecutions(): number {
    let total = 0;
    for (const count of executionCounts.values()) total += count;
    return total;
  }

  function maxExecutionsPerTransaction(): number {
    let max = 0;
    for (const count of executionCounts.values()) max = Math.max(max, count);
    return max;
  }

  function reset(): void {
    faults = { ...initialFaults };
    results.clear();
    executionCounts.clear();
    admittedAt = [];
    calls = 0;
    maxInFlight = inFlight;
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://headend').pathname;
    const handled =
      path === '/commands'
        ? req.method === 'POST'
          ? handleCommand(req, res)
          : Promise.resolve(reply(res, 405, { result: 'METHOD_NOT_ALLOWED' }))
        : handleAdmin(req, res, path);
    handled.catch(() => {
      // The client went away mid-request; there is nobody left to answer.
      if (!res.headersSent && !res.destroyed) reply(res, 500, { result: 'INTERNAL_ERROR' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    setFaults(next) {
      faults = { ...next };
    },
    executions: (transactionId) => executionCounts.get(transactionId) ?? 0,
    totalExecutions,
    maxExecutionsPerTransaction,
    callsReceived: () => calls,
    maxInFlight: () => maxInFlight,
    reset,
    stop() {
      lifetime.abort();
      return new Promise<void>((resolve) => {
        // close() alone would wait for hung (timeout-fault) and keep-alive connections.
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body as text, or undefined when it is larger than MAX_BODY_BYTES (read to the end regardless). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

// Comparing digests keeps the comparison constant-time and the lengths equal whatever the caller sent.
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The command, or a description of what is wrong with the body. */
function parseCommand(raw: string): Command | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const unknown = Object.keys(body).find((key) => !COMMAND_FIELDS.has(key));
  if (unknown !== undefined) return `Unknown field ${unknown}.`;
  if (body.command !== 'CLEAR_PIN') return 'command must be CLEAR_PIN.';
  if (typeof body.transaction_id !== 'string' || body.transaction_id === '') {
    return 'transaction_id must be a non-empty string.';
  }
  if (typeof body.smartcard_ca_id !== 'string' || body.smartcard_ca_id === '') {
    return 'smartcard_ca_id must be a non-empty string.';
  }
  if (body.priority !== 'REGULAR' && body.priority !== 'EXPRESS') return 'priority must be REGULAR or EXPRESS.';
  return { transactionId: body.transaction_id, smartcardCaId: body.smartcard_ca_id };
}

/** The faults, or a description of what is wrong with the body. */
function parseFaults(raw: string): HeadendFaults | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const unknown = Object.keys(body).find((key) => !FAULT_FIELDS.has(key));
  if (unknown !== undefined) return `Unknown fault ${unknown}.`;
  const { latencyMs, failRate, timeout, rateLimitPerSecond, down } = body;
  if (latencyMs !== undefined && !(typeof latencyMs === 'number' && latencyMs >= 0 && Number.isFinite(latencyMs))) {
    return 'latencyMs must be a number of milliseconds, 0 or more.';
  }
  if (failRate !== undefined && !(typeof failRate === 'number' && failRate >= 0 && failRate <= 1)) {
    return 'failRate must be a number from 0 to 1.';
  }
  if (rateLimitPerSecond !== undefined && !(typeof rateLimitPerSecond === 'number' && rateLimitPerSecond >= 0)) {
    return 'rateLimitPerSecond must be a number, 0 or more.';
  }
  if (timeout !== undefined && typeof timeout !== 'boolean') return 'timeout must be true or false.';
  if (down !== undefined && typeof down !== 'boolean') return 'down must be true or false.';
  return body as HeadendFaults;
}

if (import.meta.main) {
  const simulator = await startHeadendSimulator({
    port: Number(process.env.HEADEND_PORT ?? 4010),
    secret: process.env.HEADEND_SECRET ?? DEFAULT_HEADEND_SECRET,
    knownCards: process.env.HEADEND_KNOWN_CARDS?.split(',')
      .map((card) => card.trim())
      .filter((card) => card !== ''),
  });
  console.log(`Headend simulator listening on ${simulator.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void simulator.stop();
    });
  }
}
