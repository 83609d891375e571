import type { LocalStack } from '../../infra/local/local-stack.ts';
import { clearPinBody, DEMO_LOGIN, DEMO_TOKEN, type DemoCard, KNOWN_CARD } from './demo.ts';

/** The one HTTP client of the tests: real requests to the API front, answers read whole. */

/** Where requests go: a local stack, or anything else with an API base URL. */
export type Api = Pick<LocalStack, 'apiUrl'>;

export const ROUTES = {
  login: '/authentication/token',
  release: '/authentication/token/release',
  clearPin: '/nagravision/provisioning_requests/clear_pin',
  show: '/provisioning/provisioning_requests/show',
  list: '/provisioning/provisioning_requests/list',
  cancel: '/provisioning/provisioning_requests/cancel',
} as const;

export type Envelope = {
  status: { code: string; message: string; description: string };
  // biome-ignore lint/suspicious/noExplicitAny: response data are inspected freely by the tests
  data: any;
};

/** An answer: `body` is the parsed JSON (undefined when the text is not JSON). */
export type Reply = { status: number; headers: Headers; text: string; body: Envelope | undefined };

export type CallOptions = { method?: string; body?: string; headers?: Record<string, string> };

/** One HTTP call; never throws for an HTTP status, only for a broken connection. */
export const call = async (api: Api, path: string, options: CallOptions = {}): Promise<Reply> => {
  const response = await fetch(`${api.apiUrl}${path}`, {
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

/**
 * POSTs `body` (a string is sent as it is, anything else as JSON). Content-Type is application/json unless
 * `headers` sets it; setting it to '' sends none.
 */
export const postJson = (api: Api, path: string, body: unknown, headers: Record<string, string> = {}) => {
  const merged: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'content-type') delete merged['content-type'];
    if (value !== '') merged[name] = value;
  }
  return call(api, path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: merged,
  });
};

/** A query: a parameter with several values is sent once for each. */
export type Query = Readonly<Record<string, string | readonly string[]>>;

/** GETs `path` with `query` as its query string. */
export const get = (api: Api, path: string, query: Query = {}) => {
  const pairs = Object.entries(query).flatMap(([name, value]) =>
    (typeof value === 'string' ? [value] : value).map((one): [string, string] => [name, one]),
  );
  const search = new URLSearchParams(pairs).toString();
  return call(api, `${path}${search === '' ? '' : `?${search}`}`);
};

/** Logs in as the demo user, with `overrides` replacing or adding fields (undefined drops one). */
export const login = (api: Api, overrides: Record<string, unknown> = {}) =>
  postJson(api, ROUTES.login, { ...DEMO_LOGIN, ...overrides });

export const createClearPin = (
  api: Api,
  card: DemoCard = KNOWN_CARD,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => postJson(api, ROUTES.clearPin, clearPinBody(card, extra), headers);

/** show by `identifier` (`id=…` or `number=…`), each parameter percent-encoded as given. */
export const show = (api: Api, identifier: string, token: string = DEMO_TOKEN) =>
  call(
    api,
    `${ROUTES.show}?token=${encodeURIComponent(token)}&provisioning_request_identifier=${encodeURIComponent(identifier)}`,
  );

/** The token of a login reply ('' when there is none). */
export const tokenIn = (reply: Reply): string => {
  const token: unknown = reply.body?.data?.token;
  return typeof token === 'string' ? token : '';
};

/** The request id of a create reply ('' when there is none). */
export const idIn = (reply: Reply | undefined): string => {
  const id: unknown = reply?.body?.data?.id;
  return typeof id === 'string' ? id : '';
};

/** A request as the API answers it (the fields the pipeline tests look at). */
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

/** The request a successful reply carries; throws with the answer when it is not 200 OK. */
const requestIn = (reply: Reply, what: string): CrmRequest => {
  if (reply.status !== 200 || reply.body?.status?.code !== 'OK' || reply.body.data === undefined) {
    throw new Error(`${what} failed: HTTP ${reply.status} ${reply.text.slice(0, 500)}`);
  }
  return reply.body.data as CrmRequest;
};

/** A create that must succeed: answers the request created. */
export const createRequest = async (api: Api, card?: DemoCard, extra?: Record<string, unknown>) =>
  requestIn(await createClearPin(api, card, extra), 'clear_pin');

/** show by id that must succeed: answers the request. */
export const showRequest = async (api: Api, id: string) => requestIn(await show(api, `id=${id}`), `show ${id}`);
