import type { ScanCommand, ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { scanRequests } from '../../infra/tools/stored-requests.ts';

/** A tiny fetch helper for the API tests: every answer is read whole, as JSON when it is JSON. */

export type ApiResponse = {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely by the tests
  body: any;
  /** The body exactly as received. */
  text: string;
};

export type ApiClient = {
  /**
   * POSTs `body` (a string is sent as is, anything else as JSON). Content-Type is application/json unless
   * `headers` sets it; setting it to '' sends no Content-Type at all.
   */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** GETs `path` with `query` as the query string. */
  get(path: string, query?: Record<string, string>): Promise<ApiResponse>;
};

const read = async (response: Response): Promise<ApiResponse> => {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the tests see the text.
  }
  return { status: response.status, headers: response.headers, body, text };
};

export const apiClient = (baseUrl: string): ApiClient => ({
  async post(path, body, headers = {}) {
    const merged: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'content-type') delete merged['content-type'];
      if (value !== '') merged[name] = value;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    // Sent as bytes so that fetch adds no Content-Type of its own.
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: merged,
      body: new TextEncoder().encode(text),
    });
    return read(response);
  },
  async get(path, query = {}) {
    const search = new URLSearchParams(query).toString();
    return read(await fetch(`${baseUrl}${path}${search === '' ? '' : `?${search}`}`));
  },
});

export const CLEAR_PIN_PATH = '/nagravision/provisioning_requests/clear_pin';
export const LOGIN_PATH = '/authentication/token';
export const RELEASE_PATH = '/authentication/token/release';
export const SHOW_PATH = '/provisioning/provisioning_requests/show';

export const DEMO_TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';
export const DEMO_LOGIN = { username: 'MPAdministrator', password: '1234', organisation: 'CRMDEMO' } as const;
export const DEMO_UNIT_ID = '48305F8849E3C18B227C5BE3A27BA6DF';

/** The seed example's request body. */
export const seedBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  token: DEMO_TOKEN,
  subscription_identifier: { number: 'S60507' },
  smartcard_identifier: { serial_number: 'smrt20000054' },
  ...overrides,
});

/** The `data` of the response in CRM.COM's clear_pin example (seed/clear_pin.txt), verbatim. */
export const SEED_DATA = {
  scheduled_date: '2015-09-07T17:56:11',
  response: null,
  error_code: null,
  priority: 'REGULAR',
  error_description: null,
  sequence_number: null,
  number: '18579',
  process_id: null,
  name: null,
  parameters_set: [
    { id: 'F858F07C2AFB4020988F40E5E36D308B' },
    { smartcard_ca_id: 'smrt200000', id: '8D90C87F9EBF4DB0B54C44DFB4DD2E6E' },
    { id: '79D362BC51724DC99A62A597A15939B5' },
    { sub_provisioning_distribution_id: '296D64F4D3A543B6AC4F4820F13FDC41', id: 'FD9A9DC80EAA4A8F810F214592F3D5DD' },
  ],
  process_immediately: 0,
  request: null,
  log_information: {
    updated_date: '2015-09-07T17:56:11',
    created_date: '2015-09-07T17:56:11',
    created_by_unit: {
      community_name: 'Internal Community',
      id: '48305F8849E3C18B227C5BE3A27BA6DF',
      name: 'Admin Unit',
      group_name: 'Main Group',
      description: 'r1 Test Description for resource request tab.Test Description for resource request tab.',
      alternative_code: 'MG',
    },
    updated_by_unit: {
      community_name: 'Internal Community',
      id: '48305F8849E3C18B227C5BE3A27BA6DF',
      name: 'Admin Unit',
      group_name: 'Main Group',
      description: 'r1 Test Description for resource request tab.Test Description for resource request tab.',
      alternative_code: 'MG',
    },
    created_by_user: { person_name: 'Marios Lannister', username: 'MPAdministrator', id: '1' },
    updated_by_user: { person_name: 'Marios Lannister', username: 'MPAdministrator', id: '1' },
  },
  life_cycle_state: 'PENDING',
  type: 'CLEAR_CA_PIN',
  process_name: 'RESET_PIN_CODE_UTILITY',
  id: 'D62E639909C64F648AF480C66BF59FF9',
  reference_number: null,
  executed_date: null,
} as const;

/** The JSON type of a value, telling null and arrays apart. */
export const jsonType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

export const CRM_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
export const CRM_ID = /^[0-9A-F]{32}$/;

/**
 * Asserts that a provisioning request answered by the API has the seed's shape: the same keys, the same JSON
 * types where the seed has a value, the fixed values equal, ids and dates in CRM.COM's forms. Answers the
 * problems found (empty when none), so a test can show them all at once.
 */
export const seedShapeProblems = (data: Record<string, unknown>, pending = true): string[] => {
  const problems: string[] = [];
  const same = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
    }
  };
  same('keys', Object.keys(data).sort(), Object.keys(SEED_DATA).sort());
  for (const [key, expected] of Object.entries(SEED_DATA)) {
    const actual = data[key];
    if (pending || expected !== null) same(`type of ${key}`, jsonType(actual), jsonType(expected));
  }
  for (const key of ['type', 'process_name', 'name'] as const) same(key, data[key], SEED_DATA[key]);
  if (pending) same('life_cycle_state', data.life_cycle_state, 'PENDING');
  if (!CRM_ID.test(String(data.id))) problems.push(`id ${String(data.id)}`);
  if (!/^\d+$/.test(String(data.number))) problems.push(`number ${String(data.number)}`);
  if (!CRM_DATE.test(String(data.scheduled_date))) problems.push(`scheduled_date ${String(data.scheduled_date)}`);
  const log = (data.log_information ?? {}) as Record<string, unknown>;
  same('log_information keys', Object.keys(log).sort(), Object.keys(SEED_DATA.log_information).sort());
  for (const key of ['created_by_unit', 'updated_by_unit', 'created_by_user', 'updated_by_user'] as const) {
    same(`log_information.${key}`, sortKeys(log[key]), sortKeys(SEED_DATA.log_information[key]));
  }
  for (const key of ['created_date', 'updated_date'] as const) {
    if (!CRM_DATE.test(String(log[key]))) problems.push(`log_information.${key} ${String(log[key])}`);
  }
  const parameters = (data.parameters_set ?? []) as Record<string, unknown>[];
  same('parameters_set length', parameters.length, 4);
  for (const parameter of parameters) {
    if (!CRM_ID.test(String(parameter.id))) problems.push(`parameter id ${String(parameter.id)}`);
  }
  same('parameter ids distinct', new Set(parameters.map((p) => p.id)).size, parameters.length);
  same('parameters with smartcard_ca_id', parameters.filter((p) => 'smartcard_ca_id' in p).length, 1);
  same(
    'parameters with sub_provisioning_distribution_id',
    parameters.filter((p) => 'sub_provisioning_distribution_id' in p).length,
    1,
  );
  return problems;
};

const sortKeys = (value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
    : value;

type Scanner = { send(command: ScanCommand): Promise<ScanCommandOutput> };

/** Every provisioning request stored in the main table (items whose pk begins with REQ#). */
export const storedRequests = (document: Scanner, tableName: string): Promise<Record<string, unknown>[]> =>
  scanRequests(document as Parameters<typeof scanRequests>[0], tableName);
