import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import type { LocalStack } from '../../infra/local/local-stack.ts';
import { scanRequests } from '../../infra/tools/stored-requests.ts';
import { CARDS, type DemoCard } from './demo.ts';
import { type Api, type CrmRequest, createClearPin, show, showRequest } from './http.ts';
import { runPool } from './pool.ts';

/** Provisioning requests through the pipeline: creating many, reading them back, waiting for their end. */

type Tables = Pick<LocalStack, 'document' | 'tableName'>;
export type StoredRequest = Record<string, unknown>;

/** The provisioning requests in the table, by id (the operators' scan, the one way the tests list them). */
export const storedRequests = async (stack: Tables): Promise<Map<string, StoredRequest>> =>
  new Map((await scanRequests(stack.document, stack.tableName)).map((item) => [String(item.id), item]));

/** The table's record of one request, internal attributes included (dueAt, claimId, attempts …). */
export const readItem = async (stack: Tables, id: string): Promise<StoredRequest | undefined> =>
  (
    await stack.document.send(
      new GetCommand({ TableName: stack.tableName, Key: { pk: `REQ#${id}` }, ConsistentRead: true }),
    )
  ).Item;

export const isFinal = (item: StoredRequest | undefined) =>
  item?.lifeCycleState === 'COMPLETED' || item?.lifeCycleState === 'REJECTED';

/** `scheduled_date` for an instant, ISO 8601 with `Z`, whole seconds (rounded up so it is never earlier). */
export const scheduledDateAt = (at: Date): string =>
  `${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;

export type Created = { id: string; number: string; card: DemoCard };

/**
 * Creates `count` clear-PINs over the demo cards, alternating process_immediately and priority, so both the SQS
 * fast path and the processing run carry them. Every create must answer 200.
 */
export const createMany = async (
  api: Api,
  count: number,
  options: { concurrency?: number; extra?: (index: number) => Record<string, unknown> } = {},
): Promise<Created[]> =>
  runPool(
    Array.from({ length: count }, (_, i) => i),
    options.concurrency ?? 8,
    async (i) => {
      const card = CARDS[i % CARDS.length] as DemoCard;
      const extra = options.extra?.(i) ?? {
        process_immediately: i % 2 === 0,
        priority: i % 4 < 2 ? 'REGULAR' : 'EXPRESS',
      };
      const reply = await createClearPin(api, card, extra);
      if (reply.status !== 200) throw new Error(`create ${i} answered ${reply.status}: ${reply.text}`);
      return { id: reply.body?.data.id, number: reply.body?.data.number, card };
    },
  );

const stateSummary = (items: Map<string, StoredRequest>, ids: Iterable<string>) => {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const item = items.get(id);
    const state = item === undefined ? 'MISSING' : `${item.lifeCycleState}${item.claimId ? '(claimed)' : ''}`;
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return JSON.stringify(counts);
};

/** Waits until every given request is COMPLETED or REJECTED; answers the table's requests. */
export const waitUntilFinal = (stack: Tables, ids: string[], timeout: number) =>
  vi.waitFor(
    async () => {
      const items = await storedRequests(stack);
      if (!ids.every((id) => isFinal(items.get(id)))) throw new Error(`Not all final: ${stateSummary(items, ids)}`);
      return items;
    },
    { timeout, interval: 300 },
  );

/** Waits until show answers `state` for the request; answers the request as show gives it. */
export const waitForState = (api: Api, id: string, state: CrmRequest['life_cycle_state'], timeout: number) =>
  vi.waitFor(
    async () => {
      const request = await showRequest(api, id);
      if (request.life_cycle_state !== state) {
        throw new Error(`request ${id} is ${request.life_cycle_state} (error ${request.error_code}), not ${state}`);
      }
      return request;
    },
    { timeout, interval: 100 },
  );

/**
 * What is wrong with the end state of `created` (an empty list when right): each request COMPLETED with a
 * reference (or, for a card the headend does not know, REJECTED UNKNOWN_SMARTCARD), as stored and as `show`
 * answers it, and executed exactly once by the headend.
 */
export const settledProblems = async (
  stack: Pick<LocalStack, 'apiUrl' | 'document' | 'tableName' | 'headend'>,
  created: Created[],
): Promise<string[]> => {
  const problems: string[] = [];
  const items = await storedRequests(stack);
  const shown = await runPool(created, 16, (c) => show(stack, `id=${c.id}`));
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
 * A stored request the code cannot read (its creation date is not a date), as a faulty migration or a hand edit
 * would leave it: the honest way, without mocks, to provoke a 500. `like` is a request the API answered, whose
 * parameters and log information it reuses; `keys` are the index keys to give it (which lists and shows find it).
 */
export const unreadableRequestItem = (
  id: string,
  organisation: string,
  number: string,
  like: { parameters_set: unknown; log_information: Record<string, unknown> },
  keys: Record<string, string>,
): StoredRequest => ({
  pk: `REQ#${id}`,
  ...keys,
  id,
  organisation,
  number,
  priority: 'REGULAR',
  processImmediately: false,
  scheduledAt: new Date().toISOString(),
  createdAt: 'yesterday',
  updatedAt: 'yesterday',
  lifeCycleState: 'PENDING',
  parameters: like.parameters_set,
  createdByUser: like.log_information.created_by_user,
  createdByUnit: like.log_information.created_by_unit,
  updatedByUser: like.log_information.updated_by_user,
  updatedByUnit: like.log_information.updated_by_unit,
  attempts: 0,
});
