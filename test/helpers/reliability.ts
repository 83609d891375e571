import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_DATA_PATH,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../infra/local/local-stack.ts';
import { scanRequests } from '../../infra/tools/stored-requests.ts';
import { SEED_DATA } from './api-client.ts';

/** Shared tools of the reliability, fuzz, security and soak suites: real parts over HTTP, no mocks. */

export const DEMO = {
  token: 'A7AD3752AC7B48099A80E62C8F0BE565',
  username: 'MPAdministrator',
  password: '1234',
  organisation: 'CRMDEMO',
  unitId: '48305F8849E3C18B227C5BE3A27BA6DF',
  headendSecret: 'local-headend-secret',
} as const;

/** The demo subscriptions and their Nagravision smartcards; S60509's card is unknown to the headend. */
export const CARDS = [
  { subscription: 'S60507', serial: 'smrt20000054', headendKnows: true },
  { subscription: 'S60508', serial: 'smrt20000055', headendKnows: true },
  { subscription: 'S60509', serial: 'smrt20000099', headendKnows: false },
] as const;

export const ROUTES = {
  login: '/authentication/token',
  release: '/authentication/token/release',
  clearPin: '/nagravision/provisioning_requests/clear_pin',
  show: '/provisioning/provisioning_requests/show',
} as const;

/** SPEC §2.5: the HTTP status of every catalogue code (NOT_FOUND is the router's answer to an unknown route). */
export const SPEC_STATUS: Record<string, number> = {
  OK: 200,
  INVALID_REQUEST: 400,
  MISSING_PARAMETER: 400,
  UNKNOWN_PARAMETER: 400,
  INVALID_IDENTIFIER: 400,
  INVALID_DATE: 400,
  INVALID_VALUE: 400,
  INVALID_TOKEN: 401,
  INVALID_CREDENTIALS: 401,
  SUBSCRIPTION_NOT_FOUND: 404,
  SMARTCARD_NOT_FOUND: 404,
  PROVISIONING_REQUEST_NOT_FOUND: 404,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SMARTCARD_NOT_IN_SUBSCRIPTION: 422,
  NOT_A_NAGRAVISION_SMARTCARD: 422,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

export type Envelope = {
  status: { code: string; message: string; description: string };
  data: Record<string, unknown> | null;
};

export type Reply = { status: number; headers: Headers; text: string; body: Envelope | undefined };

export type CallOptions = { method?: string; body?: string; headers?: Record<string, string> };

/** One HTTP call to the API front; never throws for an HTTP status, only for a broken connection. */
export const call = async (apiUrl: string, path: string, options: CallOptions = {}): Promise<Reply> => {
  const response = await fetch(`${apiUrl}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: options.headers,
    // As bytes, so fetch adds no Content-Type of its own: a test decides whether one is sent.
    body: options.body === undefined ? undefined : Buffer.from(options.body, 'utf8'),
  });
  const text = await response.text();
  let body: Envelope | undefined;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
};

export const postJson = (apiUrl: string, path: string, value: unknown, headers: Record<string, string> = {}) =>
  call(apiUrl, path, {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json', ...headers },
  });

/** The token of a login reply ('' when there is none). */
export const tokenIn = (reply: Reply): string => {
  const data = reply.body?.data as { token?: unknown } | null | undefined;
  return typeof data?.token === 'string' ? data.token : '';
};

/** The request id of a create reply ('' when there is none). */
export const idIn = (reply: Reply | undefined): string => {
  const data = reply?.body?.data as { id?: unknown } | null | undefined;
  return typeof data?.id === 'string' ? data.id : '';
};

export const clearPinBody = (
  card: (typeof CARDS)[number],
  extra: Record<string, unknown> = {},
  token: string = DEMO.token,
) => ({
  token,
  subscription_identifier: { number: card.subscription },
  smartcard_identifier: { serial_number: card.serial },
  ...extra,
});

export const createClearPin = (
  apiUrl: string,
  card: (typeof CARDS)[number],
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => postJson(apiUrl, ROUTES.clearPin, clearPinBody(card, extra), headers);

export const login = (apiUrl: string, overrides: Record<string, unknown> = {}) =>
  postJson(apiUrl, ROUTES.login, {
    username: DEMO.username,
    password: DEMO.password,
    organisation: DEMO.organisation,
    ...overrides,
  });

export const show = (apiUrl: string, identifier: string, token: string = DEMO.token) =>
  call(
    apiUrl,
    `${ROUTES.show}?token=${encodeURIComponent(token)}&provisioning_request_identifier=${encodeURIComponent(identifier)}`,
  );

/**
 * A stack trace (frames on their own lines, raw or JSON-escaped, or a `stack` field), a source location or this
 * checkout's path: none of these may reach a client. Narrow on purpose, since descriptions echo client input.
 */
export const LEAK_PATTERN =
  /(?:\n|\\n)\s+at\s|\(file:\/\/|\((?:\/|node:)[^)]*:\d+:\d+\)|node:internal|node_modules\/|\/work\/main\/|"stack"\s*:/;

/**
 * What is wrong with a reply as CRM.COM's envelope (SPEC §2): an empty list when it is right. Errors carry a
 * catalogue code whose HTTP status is the reply's, a message sentence, a string description and `data: null`.
 */
export const envelopeProblems = (reply: Reply): string[] => {
  const problems: string[] = [];
  const { body } = reply;
  if (!reply.headers.get('content-type')?.startsWith('application/json')) problems.push('content-type is not JSON');
  if (LEAK_PATTERN.test(reply.text)) problems.push('the body carries a stack frame or a source path');
  if (body === undefined || typeof body !== 'object' || body === null) return [...problems, 'body is not JSON'];
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'data,status') problems.push(`top-level keys are ${keys}`);
  const { status } = body;
  if (typeof status !== 'object' || status === null) return [...problems, 'status is not an object'];
  if (Object.keys(status).sort().join(',') !== 'code,description,message') problems.push('status keys are wrong');
  if (typeof status.code !== 'string' || typeof status.message !== 'string' || typeof status.description !== 'string') {
    problems.push('status fields are not strings');
  }
  const expected = SPEC_STATUS[status.code];
  if (expected === undefined) problems.push(`code ${status.code} is not in SPEC §2.5`);
  else if (expected !== reply.status) problems.push(`code ${status.code} came with HTTP ${reply.status}`);
  if (reply.status === 200) {
    if (status.code !== 'OK' || status.message !== '' || status.description !== '') problems.push('200 is not OK');
  } else {
    if (body.data !== null) problems.push('an error carries data');
    if (status.message.trim() === '') problems.push('an error has no message');
  }
  return problems;
};

/** Every item of a table (paginated scan, strongly consistent). */
export const scanAll = async (stack: Pick<LocalStack, 'document'>, tableName: string) => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.document.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start !== undefined);
  return items;
};

/** The provisioning requests in the table, by id. */
export const requestItems = async (stack: Pick<LocalStack, 'document' | 'tableName'>) =>
  new Map((await scanRequests(stack.document, stack.tableName)).map((item) => [String(item.id), item]));

export const isFinal = (item: Record<string, unknown> | undefined) =>
  item?.lifeCycleState === 'COMPLETED' || item?.lifeCycleState === 'REJECTED';

/** Polls `check` until it answers something other than undefined; fails with `describe()` after the timeout. */
export const waitFor = async <T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe?: () => Promise<string> | string },
): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const detail = options.describe ? await options.describe() : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms. ${detail}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
};

const stateSummary = (items: Map<string, Record<string, unknown>>, ids: Iterable<string>) => {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const item = items.get(id);
    const state = item === undefined ? 'MISSING' : `${item.lifeCycleState}${item.claimId ? '(claimed)' : ''}`;
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return JSON.stringify(counts);
};

/** Waits until every given request is COMPLETED or REJECTED; answers their items. */
export const waitUntilFinal = async (
  stack: Pick<LocalStack, 'document' | 'tableName'>,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, Record<string, unknown>>> => {
  let last = new Map<string, Record<string, unknown>>();
  return waitFor(
    async () => {
      last = await requestItems(stack);
      return ids.every((id) => isFinal(last.get(id))) ? last : undefined;
    },
    { timeoutMs, intervalMs: 300, describe: () => `States: ${stateSummary(last, ids)}` },
  );
};

/** Runs `work` over `items` with at most `concurrency` in flight; answers results in input order. */
export const runPool = async <T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
};

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A TCP proxy put between the functions and DynamoDB or SQS (through `AWS_ENDPOINT_URL_*`), so a test can make a
 * dependency unreachable for the functions while itself still reading the real service directly.
 * - `cut()`: every open connection is reset and every new one is reset on arrival (ECONNRESET).
 * - `cutAfterRequests(n)`: lets n more HTTP requests through, then behaves as `cut()` when the next one arrives.
 * - `loseReplyAfterRequests(n)`: lets n more HTTP requests through; the next one reaches the service but its
 *   connection is reset before the reply gets back (a network blip: later traffic passes again).
 * - `restore()`: connections pass again.
 */
export type FaultProxy = {
  url: string;
  setTarget(url: string): void;
  cut(): void;
  cutAfterRequests(requests: number): void;
  loseReplyAfterRequests(requests: number): void;
  restore(): void;
  isCut(): boolean;
  /** HTTP requests forwarded since the start. */
  requestsForwarded(): number;
  stop(): Promise<void>;
};

const REQUEST_LINE = /(?:^|\r\n)(?:GET|POST|PUT|DELETE|HEAD) \S+ HTTP\/1\.[01]\r\n/g;

export const startFaultProxy = async (): Promise<FaultProxy> => {
  let target: URL | undefined;
  let cutNow = false;
  let allowance: number | undefined;
  let loseReply = false;
  let forwarded = 0;
  const open = new Set<Socket>();

  const cut = () => {
    cutNow = true;
    allowance = undefined;
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
  };

  const server: Server = createServer((client) => {
    if (cutNow || target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    let doomed = false;
    open.add(client);
    open.add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (cutNow) return;
      const requests = chunk.toString('latin1').match(REQUEST_LINE)?.length ?? 0;
      if (allowance !== undefined && requests > 0) {
        if (allowance < requests) {
          if (!loseReply) {
            cut();
            return;
          }
          allowance = undefined;
          doomed = true;
        } else {
          allowance -= requests;
        }
      }
      forwarded += requests;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (doomed) {
        open.delete(client);
        open.delete(upstream);
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (!cutNow) client.write(chunk);
    });
    upstream.connect(Number(target.port), target.hostname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (url) => {
      target = new URL(url);
    },
    cut,
    cutAfterRequests: (requests) => {
      allowance = requests;
      loseReply = false;
    },
    loseReplyAfterRequests: (requests) => {
      allowance = requests;
      loseReply = true;
    },
    restore: () => {
      cutNow = false;
      allowance = undefined;
    },
    isCut: () => cutNow,
    requestsForwarded: () => forwarded,
    stop: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
};

/**
 * Captures everything the process writes to stdout and stderr and through `console` (Powertools' logger writes
 * JSON lines to process.stdout) until `restore()`. Captured output is not echoed.
 */
export const captureOutput = () => {
  const chunks: string[] = [];
  const toText = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const streams = [process.stdout, process.stderr] as const;
  const originalWrites = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(toText(chunk));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originalConsole = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      chunks.push(`${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
    };
  }
  return {
    text: () => chunks.join(''),
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = originalWrites[i] as typeof stream.write;
      });
      methods.forEach((method, i) => {
        console[method] = originalConsole[i] as (typeof console)[typeof method];
      });
    },
  };
};

/**
 * The environment that makes the local stack's processing fast enough for tests: a 2 s lease (above the worst
 * headend call: two 500 ms attempts and a back-off), 1 s retries, a 1 s grace before the processing run takes over a
 * process-immediately request.
 */
export const FAST_PROCESSING_ENV = {
  IMMEDIATE_GRACE_SECONDS: '1',
  LEASE_SECONDS: '2',
  RETRY_BASE_SECONDS: '0.25',
  RETRY_CAP_SECONDS: '1',
  HEADEND_TIMEOUT_MS: '500',
  // These tests provoke failures on purpose; their expected error lines would drown the test report.
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
} as const;

/**
 * The local stack (with FAST_PROCESSING_ENV) whose functions reach DynamoDB and SQS through fault proxies the
 * test can cut; the stack's own clients, which the tests read with, still reach the real services.
 */
export const startStackBehindProxies = async (
  options: LocalStackOptions = {},
): Promise<{ stack: LocalStack; dynamo: FaultProxy; sqs: FaultProxy; stop(): Promise<void> }> => {
  const dynamo = await startFaultProxy();
  const sqs = await startFaultProxy();
  const stack = await startLocalStack({
    port: 0,
    ...options,
    env: {
      ...FAST_PROCESSING_ENV,
      ...options.env,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
    },
  });
  dynamo.setTarget(stack.dynamoEndpoint);
  sqs.setTarget(stack.sqsEndpoint);
  return {
    stack,
    dynamo,
    sqs,
    stop: async () => {
      await stack.stop();
      await dynamo.stop();
      await sqs.stop();
    },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Fuzzing the API over HTTP (fast-check). Inputs are generated as raw JSON text, so `__proto__` keys, duplicate
// keys, lone surrogates and numbers out of range reach the service exactly as a hostile client would send them.
// Every reply is judged by an oracle written from SPEC §2 and the demo data, not from the implementation.
// ---------------------------------------------------------------------------------------------------------------

type DemoItem = {
  id: string;
  serial_number: string;
  alternative_code?: string;
  classification: string;
  provisioning_provider: string;
};
type DemoData = {
  subscriptions: { id: string; number: string; installed_items: DemoItem[] }[];
};
const demoData = JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')) as DemoData;

/** Subscription number/id → subscription id; item id/serial/alternative code → item and owner. */
const subscriptionByKey = new Map<string, string>();
const itemByKey = new Map<string, { owner: string; clearPinAllowed: boolean }>();
for (const subscription of demoData.subscriptions) {
  subscriptionByKey.set(`id=${subscription.id}`, subscription.id);
  subscriptionByKey.set(`number=${subscription.number}`, subscription.id);
  for (const item of subscription.installed_items) {
    const entry = {
      owner: subscription.id,
      clearPinAllowed: item.classification === 'SMARTCARD' && item.provisioning_provider === 'NAGRAVISION',
    };
    itemByKey.set(`id=${item.id}`, entry);
    itemByKey.set(`serial_number=${item.serial_number}`, entry);
    if (item.alternative_code) itemByKey.set(`alternative_code=${item.alternative_code}`, entry);
  }
}

/** Subscription and smartcard identifiers that belong together (a clear-PIN the service must accept). */
const MATCHED_PAIRS: [string, string][] = demoData.subscriptions.flatMap((s) =>
  s.installed_items
    .filter((i) => i.classification === 'SMARTCARD' && i.provisioning_provider === 'NAGRAVISION')
    .flatMap((i) =>
      [{ number: s.number }, { id: s.id }].flatMap((sub) =>
        [
          { serial_number: i.serial_number },
          { id: i.id },
          ...(i.alternative_code ? [{ alternative_code: i.alternative_code }] : []),
        ].map((item): [string, string] => [JSON.stringify(sub), JSON.stringify(item)]),
      ),
    ),
);

const SUBSCRIPTION_IDENTIFIERS: Record<string, string>[] = demoData.subscriptions.flatMap(
  (s): Record<string, string>[] => [{ number: s.number }, { id: s.id }],
);
const ITEM_IDENTIFIERS: Record<string, string>[] = demoData.subscriptions.flatMap((s) =>
  s.installed_items.flatMap((i): Record<string, string>[] => [
    { serial_number: i.serial_number },
    { id: i.id },
    ...(i.alternative_code ? [{ alternative_code: i.alternative_code }] : []),
  ]),
);

/** The fields of CRM.COM's provisioning request (SPEC §2.3): the seed example's, the only names `fields_set` may list. */
export const CRM_FIELDS = Object.keys(SEED_DATA);

const pad = (n: number) => String(n).padStart(2, '0');
const dateOnly = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const localDateTime = (d: Date) =>
  `${dateOnly(d)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
const daysFromNow = (days: number) => new Date(Date.now() + days * 24 * 3600 * 1000);

/** scheduled_date values whose verdict SPEC §2.3 settles (operator zone UTC in the local stack). */
const GOOD_DATES = [
  dateOnly(daysFromNow(0)),
  dateOnly(daysFromNow(-400)),
  localDateTime(daysFromNow(1)),
  localDateTime(daysFromNow(360)),
  `${localDateTime(daysFromNow(30))}Z`,
  daysFromNow(2).toISOString(),
  `${localDateTime(daysFromNow(2))}+02:00`,
  `${localDateTime(daysFromNow(2))}-05:30`,
  '2020-02-29T12:00:00',
  '2000-01-01',
];
const BAD_DATES = [
  '',
  'tomorrow',
  'now',
  '2026-02-30',
  '2025-13-01',
  '2025-01-01T24:00:00',
  '2025-1-1',
  '01/02/2026',
  '2025-01-01 10:00:00',
  dateOnly(daysFromNow(400)),
  localDateTime(daysFromNow(367)),
  '9999-12-31T23:59:59Z',
  '2025-01-01T10:00:00+25:00',
  '2025-02-29',
  '2025-01-01T10:00:00.123',
];
const GOOD_DATE_SET = new Set(GOOD_DATES);
const BAD_DATE_SET = new Set(BAD_DATES);

/** JSON texts of every wrong type, plus numbers JSON can write but JavaScript cannot hold exactly. */
const WRONG_TYPE_TEXTS = [
  '0',
  '1',
  '-1',
  '2',
  '1e999',
  '-1e999',
  '-0',
  '3.14',
  '123456789012345678901234567890',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '[1,"a"]',
  '{"a":{"b":[null]}}',
  '""',
];

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u0000A7AD3752AC7B48099A80E62C8F0BE565',
  '\ud800',
  '\udfff\ud800',
  '\u202eS60507',
  '\ufeffS60507',
  'S60507\n',
  ' S60507',
  's60507',
  'S60507\u0000',
  '𝕊𝟞𝟘𝟝𝟘𝟟',
  'Ｓ６０５０７',
  'ß',
  'İ',
  'ﬀ',
  "' OR '1'='1",
  '"; DROP TABLE requests; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as it is on purpose
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '../../etc/passwd',
  '%00',
  '%s%s%s%n',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  'REQ#1',
  'TOKEN#x',
  'a'.repeat(256),
  'a'.repeat(257),
];

/** Strings of every kind: control characters, any code point, graphemes, nasty constants and huge ones. */
const anyString = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.integer({ min: 300, max: 20_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

const wrongTypeText = fc.constantFrom(...WRONG_TYPE_TEXTS);
const deepText = fc
  .tuple(fc.integer({ min: 2, max: 9000 }), fc.boolean())
  .map(([depth, array]) =>
    array ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
const anyValueText = fc.oneof(
  { arbitrary: anyString.map((s) => JSON.stringify(s)), weight: 3 },
  { arbitrary: wrongTypeText, weight: 3 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: deepText, weight: 1 },
);

/** Keys no method takes, prototype names first. */
const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const extraKey = (allowed: readonly string[]) =>
  fc
    .oneof(
      { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS), weight: 3 },
      {
        arbitrary: fc.constantFrom('process_immediatelly', 'Token', 'TOKEN', 'token ', 'organisation_id', 'id'),
        weight: 2,
      },
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), weight: 2 },
    )
    .filter((key) => !allowed.includes(key));

/** A JSON object written as text: keys kept as given (`__proto__` stays a key, duplicates stay duplicates). */
const objectText = (entries: readonly (readonly [string, string])[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/** An entry present most of the time, absent sometimes. */
const maybe = (key: string, value: fc.Arbitrary<string>, absentOneIn = 8) =>
  fc.option(
    value.map((text) => [key, text] as const),
    { nil: undefined, freq: absentOneIn },
  );

const extras = (allowed: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constant([] as (readonly [string, string])[]), weight: 6 },
    { arbitrary: fc.array(fc.tuple(extraKey(allowed), anyValueText), { minLength: 1, maxLength: 2 }), weight: 1 },
  );

const identifierText = (valid: Record<string, string>[], fields: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...valid).map((v) => JSON.stringify(v)), weight: 8 },
    {
      // Zero, one or several of the fields, with values of any kind, and sometimes a key that is not a field.
      arbitrary: fc
        .tuple(
          fc.subarray([...fields]),
          fc.array(
            fc.oneof(
              anyString.map((s) => JSON.stringify(s)),
              wrongTypeText,
            ),
            {
              minLength: fields.length,
              maxLength: fields.length,
            },
          ),
          fc.option(fc.tuple(extraKey(fields), anyValueText), { freq: 3 }),
        )
        .map(([chosen, values, extra]) =>
          objectText([...chosen.map((field, i) => [field, values[i] ?? '""'] as const), ...(extra ? [extra] : [])]),
        ),
      weight: 3,
    },
    { arbitrary: anyValueText, weight: 1 },
  );

const stringOrWrong = (good: fc.Arbitrary<string>, goodWeight = 6) =>
  fc.oneof(
    { arbitrary: good.map((s) => JSON.stringify(s)), weight: goodWeight },
    { arbitrary: anyString.map((s) => JSON.stringify(s)), weight: 2 },
    { arbitrary: wrongTypeText, weight: 1 },
  );

const CREATE_FIELDS = [
  'token',
  'subscription_identifier',
  'smartcard_identifier',
  'process_immediately',
  'scheduled_date',
  'priority',
] as const;

const createObjectText = fc
  .record({
    token: maybe(
      'token',
      stringOrWrong(
        fc.constantFrom(
          DEMO.token,
          DEMO.token.toLowerCase(),
          '00000000000000000000000000000000',
          DEMO.token,
          DEMO.token,
        ),
        12,
      ),
      12,
    ),
    identifiers: fc.oneof(
      { arbitrary: fc.constantFrom(...MATCHED_PAIRS), weight: 3 },
      {
        arbitrary: fc.tuple(
          identifierText(SUBSCRIPTION_IDENTIFIERS, ['id', 'number']),
          identifierText(ITEM_IDENTIFIERS, ['id', 'serial_number', 'alternative_code']),
        ),
        weight: 2,
      },
    ),
    absent: fc.constantFrom(
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'subscription',
      'smartcard',
    ),
    processImmediately: maybe(
      'process_immediately',
      fc.oneof(
        { arbitrary: fc.constantFrom('true', 'false', '1', '0', '"true"', '"false"'), weight: 4 },
        { arbitrary: fc.constantFrom('"1"', '"0"', '"yes"', '2', 'null', '"TRUE"', '1.0', '-0'), weight: 2 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    scheduledDate: maybe(
      'scheduled_date',
      fc.oneof(
        { arbitrary: fc.constantFrom(...GOOD_DATES).map((d) => JSON.stringify(d)), weight: 4 },
        { arbitrary: fc.constantFrom(...BAD_DATES).map((d) => JSON.stringify(d)), weight: 3 },
        { arbitrary: fc.constantFrom(String(Date.now()), '1767225600'), weight: 1 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    priority: maybe(
      'priority',
      fc.oneof(
        { arbitrary: fc.constantFrom('"REGULAR"', '"EXPRESS"'), weight: 4 },
        { arbitrary: fc.constantFrom('"regular"', '"Express"', '"URGENT"', '""', '" REGULAR"'), weight: 2 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    extra: extras(CREATE_FIELDS),
    reversed: fc.boolean(),
  })
  .map(({ extra, reversed, identifiers, absent, token, ...options }) => {
    const entries = [
      token,
      absent === 'subscription' ? undefined : (['subscription_identifier', identifiers[0]] as const),
      absent === 'smartcard' ? undefined : (['smartcard_identifier', identifiers[1]] as const),
      ...Object.values(options),
      ...extra,
    ].filter((e) => e !== undefined) as [string, string][];
    return objectText(reversed ? entries.reverse() : entries);
  });

const LOGIN_FIELDS = ['username', 'password', 'organisation', 'organization', 'unit'] as const;

const loginObjectText = fc
  .record({
    username: maybe('username', stringOrWrong(fc.constantFrom(DEMO.username, 'mpadministrator', 'admin', 'root')), 12),
    password: maybe(
      'password',
      stringOrWrong(
        fc.constantFrom(DEMO.password, DEMO.password, '12345', '123', '', '1234 ', '1235', 'x'.repeat(5000)),
      ),
      12,
    ),
    organisation: maybe('organisation', stringOrWrong(fc.constantFrom(DEMO.organisation, 'crmdemo', 'OTHER')), 3),
    organization: maybe('organization', stringOrWrong(fc.constantFrom(DEMO.organisation, 'OTHER')), 2),
    unit: maybe('unit', stringOrWrong(fc.constantFrom(DEMO.unitId, DEMO.unitId.toLowerCase(), 'UNKNOWN')), 2),
    extra: extras(LOGIN_FIELDS),
  })
  .map(({ extra, ...fields }) =>
    objectText([...Object.values(fields).filter((e) => e !== undefined), ...extra] as [string, string][]),
  );

const BODY_LIMIT = 16 * 1024;

/** A body as text: mostly a JSON object, sometimes malformed, at the size limit, or over it. */
const bodyText = (object: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: object, weight: 40 },
    {
      arbitrary: fc.tuple(object, fc.constantFrom(0, 1, 100)).map(([text, over]) => {
        const size = Buffer.byteLength(text);
        return size >= BODY_LIMIT ? text : `${text}${' '.repeat(BODY_LIMIT - size + over)}`;
      }),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(object, fc.nat())
        .map(([text, cut]) => text.slice(0, text.length > 1 ? cut % (text.length - 1) : 0)),
      weight: 1,
    },
    { arbitrary: object.map((text) => `[${text}]`), weight: 1 },
    { arbitrary: object.map((text) => `\ufeff${text}`), weight: 1 },
    { arbitrary: object.map((text) => `${text},`), weight: 1 },
    { arbitrary: object.map((text) => text.replaceAll('"', "'")), weight: 1 },
    { arbitrary: anyValueText, weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    {
      arbitrary: fc.constantFrom('', ' ', 'null', '{', '}', '{"token":NaN}', '{"token":undefined}', '/* */{}'),
      weight: 1,
    },
  );

/** Content types with what SPEC §2.5 makes of them: JSON (or absent: read as JSON) passes, anything else is 415. */
const CONTENT_TYPES: { value: string | undefined; json: boolean }[] = [
  { value: 'application/json', json: true },
  { value: 'application/json; charset=utf-8', json: true },
  { value: 'Application/JSON', json: true },
  { value: 'application/vnd.crm+json', json: true },
  { value: undefined, json: true },
  { value: 'text/plain', json: false },
  { value: 'application/x-www-form-urlencoded', json: false },
  { value: 'multipart/form-data; boundary=x', json: false },
  { value: 'application/jsonp', json: false },
  { value: 'text/json', json: false },
];
const contentType = fc.oneof(
  { arbitrary: fc.constant(CONTENT_TYPES[0] as (typeof CONTENT_TYPES)[number]), weight: 12 },
  { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 3 },
);

/** SPEC §2.3: 1–128 printable characters (HTTP itself trims spaces around a header value). */
const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,128}$/;
const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 12 },
  { arbitrary: fc.stringMatching(/^[\x21-\x7E][\x20-\x7E]{0,126}[\x21-\x7E]$/), weight: 2 },
  { arbitrary: fc.constantFrom('', 'x'.repeat(129), 'tab\there', 'caf\u00e9', 'with space'), weight: 1 },
);

export type BodyInput = { body: string; contentType: string | undefined; json: boolean; idempotencyKey?: string };

export const createInput: fc.Arbitrary<BodyInput> = fc
  .record({ body: bodyText(createObjectText), type: contentType, idempotencyKey })
  .map(({ body, type, idempotencyKey: key }) => ({
    body,
    contentType: type.value,
    json: type.json,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  }));

export const loginInput: fc.Arbitrary<BodyInput> = fc
  .record({ body: bodyText(loginObjectText), type: contentType })
  .map(({ body, type }) => ({ body, contentType: type.value, json: type.json }));

export const sendBody = (apiUrl: string, path: string, input: BodyInput) => {
  const headers: Record<string, string> = {};
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey;
  return call(apiUrl, path, { method: 'POST', body: input.body, headers });
};

/** What a reply may be: the statuses allowed and, when SPEC settles it, the exact code. */
type Expectation = { statuses: number[]; code?: string; why: string };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** SPEC §2.5's first check: size, media type, a JSON object. Answers the parsed object or the expectation. */
const judgeBody = (
  input: BodyInput,
): { object: Record<string, unknown>; expected?: undefined } | { object?: undefined; expected: Expectation } => {
  if (Buffer.byteLength(input.body) > BODY_LIMIT) {
    return { expected: { statuses: [413], code: 'PAYLOAD_TOO_LARGE', why: 'body over 16 KiB' } };
  }
  if (!input.json) {
    return { expected: { statuses: [415], code: 'UNSUPPORTED_MEDIA_TYPE', why: 'not a JSON content type' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body);
  } catch {
    return { expected: { statuses: [400], code: 'INVALID_REQUEST', why: 'not JSON' } };
  }
  if (!isPlainObject(parsed)) {
    return { expected: { statuses: [400], code: 'INVALID_REQUEST', why: 'not a JSON object' } };
  }
  return { object: parsed };
};

/** The identifier object of SPEC §2.3: exactly one of its fields, a non-empty string. */
const identifierKey = (value: unknown, fields: readonly string[]): string | 'invalid' => {
  if (!isPlainObject(value)) return 'invalid';
  const keys = Object.keys(value);
  if (keys.length !== 1 || !fields.includes(keys[0] as string)) return 'invalid';
  const given = value[keys[0] as string];
  if (typeof given !== 'string' || given === '') return 'invalid';
  return `${keys[0]}=${given}`;
};

const tokenIsLive = (token: unknown) => typeof token === 'string' && token.toUpperCase() === DEMO.token;

export const expectCreate = (input: BodyInput): Expectation => {
  const { object: parsed, expected } = judgeBody(input);
  if (expected) return expected;
  if (!tokenIsLive(parsed.token)) return { statuses: [401], code: 'INVALID_TOKEN', why: 'no live token' };
  if (input.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    return { statuses: [400], code: 'INVALID_VALUE', why: 'an Idempotency-Key that is not 1–128 printable characters' };
  }
  const reuse = input.idempotencyKey === undefined ? [] : [409];
  const unknown = Object.keys(parsed).filter((k) => !(CREATE_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const refused: Expectation = { statuses: [400, 404, 422, ...reuse], why: 'an invalid field or look-up' };
  const subscription = identifierKey(parsed.subscription_identifier, ['id', 'number']);
  const item = identifierKey(parsed.smartcard_identifier, ['id', 'serial_number', 'alternative_code']);
  if (subscription === 'invalid' || item === 'invalid') return refused;
  const pi = parsed.process_immediately;
  if (pi !== undefined && ![true, false, 1, 0, 'true', 'false'].includes(pi as never)) return refused;
  const priority = parsed.priority;
  if (priority !== undefined && priority !== 'REGULAR' && priority !== 'EXPRESS') return refused;
  const date = parsed.scheduled_date;
  let dateKnown = true;
  if (date !== undefined) {
    if (typeof date !== 'string' || BAD_DATE_SET.has(date)) return refused;
    dateKnown = GOOD_DATE_SET.has(date);
  }
  const owner = subscriptionByKey.get(subscription);
  const found = itemByKey.get(item);
  if (owner === undefined || found === undefined || found.owner !== owner || !found.clearPinAllowed) return refused;
  if (!dateKnown) return { statuses: [200, 400, ...reuse], why: 'a valid body with an unclassified date' };
  return { statuses: [200, ...reuse], why: 'a valid create' };
};

export const expectLogin = (input: BodyInput): Expectation => {
  const { object: parsed, expected } = judgeBody(input);
  if (expected) return expected;
  const unknown = Object.keys(parsed).filter((k) => !(LOGIN_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const { username, password, organisation, organization, unit } = parsed;
  const strings = [username, password];
  if (strings.some((s) => typeof s !== 'string'))
    return { statuses: [400], why: 'username/password missing or not strings' };
  if ([organisation, organization, unit].some((s) => s !== undefined && typeof s !== 'string')) {
    return { statuses: [400], why: 'a field of the wrong type' };
  }
  if (organisation === undefined && organization === undefined) return { statuses: [400], why: 'no organisation' };
  if (organisation !== undefined && organization !== undefined && organisation !== organization) {
    return { statuses: [400], why: 'organisation and organization differ' };
  }
  const org = organisation ?? organization;
  // Lengths SPEC does not bound may be refused as invalid values, or just fail the login.
  const odd = [username, password, org, unit].some((s) => typeof s === 'string' && (s === '' || s.length > 256));
  const right =
    username === DEMO.username &&
    password === DEMO.password &&
    org === DEMO.organisation &&
    (unit === undefined || unit === DEMO.unitId);
  if (right) return { statuses: [200, 429], why: 'the right credentials (or locked out by earlier inputs)' };
  return { statuses: odd ? [400, 401, 429] : [401, 429], why: 'wrong credentials' };
};

export type ShowInput = { query: string };

// Bounded: a URL over the front's 16 KiB header limit is refused by Node's HTTP parser (431) before any code of
// ours runs, as API Gateway refuses long URLs itself (414).
const queryValue = fc.oneof(
  { arbitrary: anyString.map((s) => s.slice(0, 1500)), weight: 3 },
  { arbitrary: fc.constantFrom('', '=', '&', '%', '%zz', '%C3%28', '+', '#', '?'), weight: 1 },
);

/** Lone surrogates cannot travel in a URL (UTF-8); they become U+FFFD as a browser would send them. */
const encodeQuery = (value: string) => encodeURIComponent(value.toWellFormed());

/** A show query: real parameters with good and bad values, unknown and prototype names, raw percent noise. */
export const showInput = (known: { ids: string[]; numbers: string[] }): fc.Arbitrary<ShowInput> => {
  const identifier = fc.oneof(
    {
      arbitrary: fc.constantFrom(...known.ids.map((id) => `id=${id}`), ...known.numbers.map((n) => `number=${n}`)),
      weight: 6,
    },
    {
      arbitrary: fc.constantFrom(
        'id=00000000000000000000000000000000',
        'number=999999999',
        'number=0',
        'number=-1',
        'number=1=2',
        'id=',
        'number',
        '=1',
        'ID=1',
        'serial_number=1',
        'id==',
        `number=${'9'.repeat(300)}`,
      ),
      weight: 3,
    },
    { arbitrary: fc.tuple(fc.constantFrom('id=', 'number=', ''), queryValue).map(([a, b]) => a + b), weight: 2 },
  );
  const fields = fc.oneof(
    { arbitrary: fc.subarray([...CRM_FIELDS], { minLength: 1 }).map((f) => f.join(',')), weight: 3 },
    { arbitrary: fc.constantFrom('', 'id,,', ' id , number ', 'nope', '__proto__', 'ID', 'id,constructor'), weight: 2 },
    { arbitrary: queryValue, weight: 1 },
  );
  const param = (name: string, value: fc.Arbitrary<string>, absentOneIn: number) =>
    fc.option(
      value.map((v) => `${name}=${encodeQuery(v)}`),
      { nil: undefined, freq: absentOneIn },
    );
  return fc
    .record({
      token: param(
        'token',
        fc.oneof(
          { arbitrary: fc.constantFrom(DEMO.token, DEMO.token.toLowerCase()), weight: 8 },
          { arbitrary: queryValue, weight: 2 },
        ),
        10,
      ),
      identifier: param('provisioning_request_identifier', identifier, 10),
      fields: param('fields_set', fields, 2),
      extra: fc.oneof(
        { arbitrary: fc.constant([] as string[]), weight: 6 },
        {
          arbitrary: fc.array(
            fc
              .tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'Token', 'id', 'number'), queryValue), queryValue)
              .map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(v)}`),
            { minLength: 1, maxLength: 2 },
          ),
          weight: 1,
        },
      ),
      noise: fc.oneof(
        { arbitrary: fc.constant(''), weight: 8 },
        { arbitrary: fc.constantFrom('&', '&&', '&=', '&%', '&%zz=1', '&a', '&token', '&=&=', '&+=+'), weight: 1 },
      ),
    })
    .map(({ token, identifier: id, fields: f, extra, noise }) => ({
      query: [token, id, f, ...extra].filter((p) => p !== undefined).join('&') + noise,
    }));
};

export const sendShow = (apiUrl: string, input: ShowInput) =>
  call(apiUrl, `${ROUTES.show}${input.query === '' ? '' : `?${input.query}`}`);

/** Judged on the parameters as the front will see them (parsed by the same WHATWG URL rules fetch applies). */
export const expectShow = (
  apiUrl: string,
  input: ShowInput,
  known: { ids: string[]; numbers: string[] },
): Expectation => {
  const params = new URL(`${apiUrl}${ROUTES.show}?${input.query}`).searchParams;
  const last = new Map<string, string>();
  for (const [name, value] of params) last.set(name, value);
  if (!tokenIsLive(last.get('token'))) return { statuses: [401], code: 'INVALID_TOKEN', why: 'no live token' };
  const unknown = [...last.keys()].filter(
    (k) => !['token', 'provisioning_request_identifier', 'fields_set'].includes(k),
  );
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const fields = last.get('fields_set');
  if (fields?.split(',').some((f) => !(CRM_FIELDS as readonly string[]).includes(f.trim()))) {
    return { statuses: [400], why: 'fields_set names a field that does not exist' };
  }
  const identifier = last.get('provisioning_request_identifier');
  if (identifier === undefined) return { statuses: [400], code: 'MISSING_PARAMETER', why: 'no identifier' };
  const match = /^(id|number)=([\s\S]+)$/.exec(identifier);
  if (!match) return { statuses: [400], why: 'a malformed identifier' };
  const [, field, value] = match as unknown as [string, string, string];
  const found = field === 'id' ? known.ids.includes(value) : known.numbers.includes(value);
  if (found) return { statuses: [200], why: 'a known request' };
  if (identifier.length > 256) return { statuses: [400, 404], why: 'an overlong identifier' };
  return { statuses: [404], code: 'PROVISIONING_REQUEST_NOT_FOUND', why: 'an unknown request' };
};

/** Problems of one reply against its expectation and the envelope rules (an empty list when it is right). */
export const judge = (reply: Reply, expected: Expectation): string[] => {
  const problems = envelopeProblems(reply);
  if (reply.status >= 500) problems.push(`HTTP ${reply.status}`);
  if (!expected.statuses.includes(reply.status)) {
    problems.push(
      `HTTP ${reply.status} ${reply.body?.status.code}, expected ${expected.statuses.join('/')} (${expected.why})`,
    );
  } else if (expected.code !== undefined && reply.body?.status.code !== expected.code) {
    problems.push(`code ${reply.body?.status.code}, expected ${expected.code} (${expected.why})`);
  }
  return problems;
};

export type FuzzStats = { inputs: number; byStatus: Record<string, number> };

export const newFuzzStats = (): FuzzStats => ({ inputs: 0, byStatus: {} });

const count = (stats: FuzzStats, reply: Reply) => {
  stats.inputs += 1;
  const key = `${reply.status} ${reply.body?.status.code ?? '?'}`;
  stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
};

/**
 * Runs `runs` inputs of one route through fast-check, `batch` at a time concurrently (one property run is one
 * batch), failing with the first batch that holds a wrong reply. Every create answered 200 is recorded.
 */
export const fuzzRoute = async <I>(options: {
  arbitrary: fc.Arbitrary<I>;
  send: (input: I) => Promise<Reply>;
  expect: (input: I) => Expectation;
  stats: FuzzStats;
  runs: number;
  seed: number;
  batch?: number;
  onOk?: (reply: Reply) => void;
}) => {
  const batch = options.batch ?? 8;
  await fc.assert(
    fc.asyncProperty(fc.array(options.arbitrary, { minLength: batch, maxLength: batch }), async (inputs) => {
      const replies = await Promise.all(inputs.map((input) => options.send(input)));
      const failures: string[] = [];
      replies.forEach((reply, i) => {
        count(options.stats, reply);
        if (reply.status === 200) options.onOk?.(reply);
        const problems = judge(reply, options.expect(inputs[i] as I));
        if (problems.length > 0) {
          failures.push(
            `${problems.join('; ')}\n  input: ${JSON.stringify(inputs[i]).slice(0, 600)}\n  reply: ${reply.text.slice(0, 300)}`,
          );
        }
      });
      if (failures.length > 0) throw new Error(failures.join('\n'));
    }),
    { seed: options.seed, numRuns: Math.ceil(options.runs / batch), endOnFailure: false },
  );
};

// ---------------------------------------------------------------------------------------------------------------
// Requests through the pipeline
// ---------------------------------------------------------------------------------------------------------------

export type Created = { id: string; number: string; card: (typeof CARDS)[number] };

/**
 * Creates `count` clear-PINs over the three demo cards, alternating process_immediately and priority, so both the
 * SQS fast path and the processing run carry them. Every create must answer 200.
 */
export const createMany = async (
  apiUrl: string,
  count: number,
  options: { concurrency?: number; extra?: (index: number) => Record<string, unknown> } = {},
): Promise<Created[]> =>
  runPool(
    Array.from({ length: count }, (_, i) => i),
    options.concurrency ?? 8,
    async (i) => {
      const card = CARDS[i % CARDS.length] as (typeof CARDS)[number];
      const extra = options.extra?.(i) ?? {
        process_immediately: i % 2 === 0,
        priority: i % 4 < 2 ? 'REGULAR' : 'EXPRESS',
      };
      const reply = await createClearPin(apiUrl, card, extra);
      if (reply.status !== 200) throw new Error(`create ${i} answered ${reply.status}: ${reply.text}`);
      const data = reply.body?.data as { id: string; number: string };
      return { id: data.id, number: data.number, card };
    },
  );

/**
 * What is wrong with the end state of `created` (an empty list when right): each request COMPLETED with a
 * reference (or, for the card the headend does not know, REJECTED UNKNOWN_SMARTCARD), as stored and as `show`
 * answers it, and executed exactly once by the headend.
 */
export const settledProblems = async (
  stack: Pick<LocalStack, 'apiUrl' | 'document' | 'tableName' | 'headend'>,
  created: Created[],
): Promise<string[]> => {
  const problems: string[] = [];
  const items = await requestItems(stack);
  const shown = await runPool(created, 16, (c) => show(stack.apiUrl, `id=${c.id}`));
  created.forEach((c, i) => {
    const item = items.get(c.id);
    const data = shown[i]?.body?.data as Record<string, unknown> | undefined;
    const expected = c.card.headendKnows ? 'COMPLETED' : 'REJECTED';
    if (item?.lifeCycleState !== expected) problems.push(`${c.id} is ${item?.lifeCycleState}, expected ${expected}`);
    if (data?.life_cycle_state !== expected) problems.push(`show answers ${c.id} as ${data?.life_cycle_state}`);
    if (expected === 'COMPLETED' && !data?.reference_number) problems.push(`${c.id} has no reference_number`);
    if (expected === 'REJECTED' && data?.error_code !== 'UNKNOWN_SMARTCARD') {
      problems.push(`${c.id} was rejected with ${data?.error_code}`);
    }
    const executions = stack.headend.executions(c.id);
    if (executions !== 1) problems.push(`${c.id} was executed ${executions} times by the headend`);
  });
  return problems;
};

/**
 * `total` creates at `concurrency` over the three demo cards, half of them process-immediately, a quarter EXPRESS.
 * Answers the created requests and every failure (a non-200 or a broken connection), never throwing.
 */
export const loadCreates = async (apiUrl: string, total: number, concurrency: number) => {
  const errors: string[] = [];
  const results = await runPool(
    Array.from({ length: total }, (_, i) => i),
    concurrency,
    async (i): Promise<Created | undefined> => {
      const card = CARDS[i % CARDS.length] as (typeof CARDS)[number];
      try {
        const reply = await createClearPin(apiUrl, card, {
          process_immediately: i % 2 === 0,
          priority: i % 4 === 1 ? 'EXPRESS' : 'REGULAR',
        });
        if (reply.status !== 200) {
          errors.push(`HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
          return undefined;
        }
        const data = reply.body?.data as { id: string; number: string };
        return { id: data.id, number: data.number, card };
      } catch (error) {
        errors.push(String((error as Error).cause ?? error));
        return undefined;
      }
    },
  );
  return { created: results.filter((r): r is Created => r !== undefined), errors };
};

/**
 * The fuzz suite of SPEC §2.5 over a fresh API-only local stack: `runs` inputs per route (create, login, show)
 * from `seed`, then the table is checked to hold exactly the requests answered 200. Used by the npm-test run
 * (test/fuzz) and the longer soak run (test/soak).
 */
export const defineFuzzSuite = ({ runs: RUNS, seed: SEED }: { runs: number; seed: number }) => {
  let stack: LocalStack;
  const known = { ids: [] as string[], numbers: [] as string[] };
  const created = new Set<string>();
  const stats: Record<'create' | 'login' | 'show', FuzzStats> = {
    create: newFuzzStats(),
    login: newFuzzStats(),
    show: newFuzzStats(),
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, processing: false, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });
    for (const card of CARDS) {
      const reply = await createClearPin(stack.apiUrl, card);
      expect(reply.status).toBe(200);
      const data = reply.body?.data as { id: string; number: string };
      known.ids.push(data.id);
      known.numbers.push(data.number);
      created.add(data.id);
    }
  });

  afterAll(async () => {
    console.info(`fuzz summary (seed ${SEED}, ${RUNS} per route): ${JSON.stringify(stats)}`);
    await stack?.stop();
  });

  describe(`fuzzing the API (${RUNS} inputs per route, seed ${SEED})`, () => {
    it('answers every create body with the envelope and its catalogue status, and 200 only for a valid one', async () => {
      await fuzzRoute({
        arbitrary: createInput,
        send: (input) => sendBody(stack.apiUrl, ROUTES.clearPin, input),
        expect: expectCreate,
        stats: stats.create,
        runs: RUNS,
        seed: SEED,
        onOk: (reply) => {
          const data = reply.body?.data as { id: string; number: string; life_cycle_state: string; type: string };
          expect(data.id).toMatch(/^[0-9A-F]{32}$/);
          expect(data.number).toMatch(/^[1-9]\d*$/);
          expect(data.life_cycle_state).toBe('PENDING');
          expect(data.type).toBe('CLEAR_CA_PIN');
          created.add(data.id);
        },
      });
      // The generator reaches every outcome class, so the oracle was exercised on each.
      const codes = Object.keys(stats.create.byStatus).join(' ');
      for (const code of [
        '200 OK',
        '401 INVALID_TOKEN',
        '400 UNKNOWN_PARAMETER',
        '400 INVALID_REQUEST',
        '413',
        '415',
      ]) {
        expect(codes).toContain(code);
      }
    });

    it('answers every login body with the envelope: 200, 400, 401 or 429 only', async () => {
      await fuzzRoute({
        arbitrary: loginInput,
        send: (input) => sendBody(stack.apiUrl, ROUTES.login, input),
        expect: expectLogin,
        stats: stats.login,
        runs: RUNS,
        seed: SEED + 1,
        onOk: (reply) => expect(tokenIn(reply)).toMatch(/^[0-9A-F]{32}$/),
      });
      const codes = Object.keys(stats.login.byStatus).join(' ');
      // The demo user is locked out after its fifth wrong password, early in the run: 429 from then on.
      for (const code of ['401 INVALID_CREDENTIALS', '429 TOO_MANY_ATTEMPTS', '400 UNKNOWN_PARAMETER']) {
        expect(codes).toContain(code);
      }
    });

    it('answers every show query with the envelope: the request, or a 4xx of the catalogue', async () => {
      await fuzzRoute({
        arbitrary: showInput(known),
        send: (input) => sendShow(stack.apiUrl, input),
        expect: (input) => expectShow(stack.apiUrl, input, known),
        stats: stats.show,
        runs: RUNS,
        seed: SEED + 2,
      });
      const codes = Object.keys(stats.show.byStatus).join(' ');
      for (const code of [
        '200 OK',
        '401 INVALID_TOKEN',
        '404 PROVISIONING_REQUEST_NOT_FOUND',
        '400 UNKNOWN_PARAMETER',
      ]) {
        expect(codes).toContain(code);
      }
    });

    it('left no request in the table that was not answered 200', async () => {
      const stored = [...(await requestItems(stack)).keys()].sort();
      expect(stored).toEqual([...created].sort());
      expect(stats.create.inputs + stats.login.inputs + stats.show.inputs).toBeGreaterThanOrEqual(3 * RUNS);
    });
  });
};
