import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/** The demo token of the local stack (SPEC §5). */
export const DEMO_TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';

/** Demo subscriptions and their smartcards; the simulator knows the first two CA ids, not the third. */
export const CARDS = {
  known: { subscription: 'S60507', serial: 'smrt20000054', caId: 'smrt200000' },
  otherKnown: { subscription: 'S60508', serial: 'smrt20000055', caId: 'smrt200001' },
  unknown: { subscription: 'S60509', serial: 'smrt20000099', caId: 'smrt299999' },
} as const;

export type Card = (typeof CARDS)[keyof typeof CARDS];

/** The request as the API answers it (the fields the pipeline tests look at). */
export type CrmRequest = {
  id: string;
  number: string;
  life_cycle_state: 'PENDING' | 'COMPLETED' | 'REJECTED';
  priority: 'REGULAR' | 'EXPRESS';
  process_immediately: 0 | 1;
  scheduled_date: string;
  executed_date: string | null;
  reference_number: string | null;
  sequence_number: string | null;
  process_id: string | null;
  request: string | null;
  response: string | null;
  error_code: string | null;
  error_description: string | null;
};

export type CreateOptions = {
  card?: Card;
  processImmediately?: boolean;
  /** Sent as `scheduled_date`. */
  scheduledDate?: string;
  priority?: 'REGULAR' | 'EXPRESS';
};

/** `scheduled_date` for an instant, ISO 8601 with `Z`, whole seconds (rounded up so it is never earlier). */
export const scheduledDateAt = (at: Date): string =>
  `${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;

const envelope = async (response: Response, what: string): Promise<CrmRequest> => {
  const text = await response.text();
  let body: { status?: { code?: string }; data?: CrmRequest } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.status !== 200 || body?.status?.code !== 'OK' || body.data === undefined) {
    throw new Error(`${what} failed: HTTP ${response.status} ${text.slice(0, 500)}`);
  }
  return body.data;
};

/** POST clear_pin through the API over HTTP; throws with the answer when it is not a success. */
export const createClearPin = async (apiUrl: string, options: CreateOptions = {}): Promise<CrmRequest> => {
  const card = options.card ?? CARDS.known;
  const body: Record<string, unknown> = {
    token: DEMO_TOKEN,
    subscription_identifier: { number: card.subscription },
    smartcard_identifier: { serial_number: card.serial },
  };
  if (options.processImmediately !== undefined) body.process_immediately = options.processImmediately;
  if (options.scheduledDate !== undefined) body.scheduled_date = options.scheduledDate;
  if (options.priority !== undefined) body.priority = options.priority;
  const response = await fetch(`${apiUrl}/nagravision/provisioning_requests/clear_pin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return envelope(response, 'clear_pin');
};

/** GET show by id through the API over HTTP. */
export const showRequest = async (apiUrl: string, id: string): Promise<CrmRequest> => {
  const query = new URLSearchParams({ token: DEMO_TOKEN, provisioning_request_identifier: `id=${id}` });
  const response = await fetch(`${apiUrl}/provisioning/provisioning_requests/show?${query}`);
  return envelope(response, `show ${id}`);
};

/** Runs `tasks` with at most `limit` of them at once; answers the results in order. */
export const mapLimit = async <T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>) => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
};

/**
 * Polls `probe` until `done` holds for its value, at most `timeoutMs`; answers that value. On time-out it
 * throws `describe(lastValue)`, so a failure says what was still wrong.
 */
export const waitUntil = async <T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: { timeoutMs: number; intervalMs?: number; describe: (value: T | undefined) => string },
): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Gave up after ${options.timeoutMs} ms: ${options.describe(last)}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
};

/** Waits until show answers `state` for the request; answers the request as show gives it. */
export const waitForState = (
  apiUrl: string,
  id: string,
  state: CrmRequest['life_cycle_state'],
  timeoutMs: number,
): Promise<CrmRequest> =>
  waitUntil(
    () => showRequest(apiUrl, id),
    (r) => r.life_cycle_state === state,
    {
      timeoutMs,
      describe: (r) => `request ${id} is ${r?.life_cycle_state ?? 'unreadable'} (error ${r?.error_code}), not ${state}`,
    },
  );

/** The table's record of a request, internal attributes included (dueAt, claimId, attempts …). */
export const readItem = async (
  document: DynamoDBDocumentClient,
  tableName: string,
  id: string,
): Promise<Record<string, unknown> | undefined> => {
  const { Item } = await document.send(
    new GetCommand({ TableName: tableName, Key: { pk: `REQ#${id}` }, ConsistentRead: true }),
  );
  return Item;
};

export { scanRequests } from '../../infra/tools/stored-requests.ts';

/** Counts of a queue's messages: waiting, in flight (received, not deleted) and delayed. */
export const queueCounts = async (sqs: SQSClient, queueUrl: string) => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};

/** Receives (and leaves in place, hidden for `visibilitySeconds`) up to 10 messages' bodies. */
export const peekMessages = async (sqs: SQSClient, queueUrl: string, visibilitySeconds = 0) => {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibilitySeconds,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
};
