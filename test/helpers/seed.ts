import type { ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import { CRM_DATE, CRM_ID } from './oracle.ts';

/**
 * CRM.COM's clear_pin example (seed/clear_pin.txt), restated here on purpose: the shape every answer of the API
 * must keep, whatever the implementation does.
 */

/** The unit and user of CRM.COM's clear_pin example, which logs them as both creator and updater. */
export const SEED_UNIT = {
  community_name: 'Internal Community',
  id: '48305F8849E3C18B227C5BE3A27BA6DF',
  name: 'Admin Unit',
  group_name: 'Main Group',
  description: 'r1 Test Description for resource request tab.Test Description for resource request tab.',
  alternative_code: 'MG',
} as const;
export const SEED_USER = { person_name: 'Marios Lannister', username: 'MPAdministrator', id: '1' } as const;

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
    created_by_unit: SEED_UNIT,
    updated_by_unit: SEED_UNIT,
    created_by_user: SEED_USER,
    updated_by_user: SEED_USER,
  },
  life_cycle_state: 'PENDING',
  type: 'CLEAR_CA_PIN',
  process_name: 'RESET_PIN_CODE_UTILITY',
  id: 'D62E639909C64F648AF480C66BF59FF9',
  reference_number: null,
  executed_date: null,
} as const;

/** The request behind the seed example, as the domain holds it: its CRM.COM view is SEED_DATA. */
export const seedRequest = (overrides: Partial<ProvisioningRequest> = {}): ProvisioningRequest => ({
  id: SEED_DATA.id,
  organisation: 'CRMDEMO',
  number: SEED_DATA.number,
  priority: 'REGULAR',
  processImmediately: false,
  scheduledAt: '2015-09-07T17:56:11.000Z',
  createdAt: '2015-09-07T17:56:11.000Z',
  updatedAt: '2015-09-07T17:56:11.000Z',
  lifeCycleState: 'PENDING',
  subscriptionId: 'F5D3986886C979E7ECAB2E7C63684311',
  installedItemId: 'DAAEF64FDDCF3BF558D1BC34B8B1CB62',
  smartcardCaId: 'smrt200000',
  parameters: SEED_DATA.parameters_set.map((p) => ({ ...p })),
  createdByUser: { ...SEED_USER },
  createdByUnit: { ...SEED_UNIT },
  updatedByUser: { ...SEED_USER },
  updatedByUnit: { ...SEED_UNIT },
  attempts: 0,
  ...overrides,
});

/** The JSON type of a value, telling null and arrays apart. */
export const jsonType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const sortKeys = (value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
    : value;

/**
 * What keeps a provisioning request answered by the API from having the seed's shape: the same keys, the same
 * JSON types where the seed has a value, the fixed values equal, ids and dates in CRM.COM's forms. Answers every
 * problem found (empty when none), so a test shows them all at once.
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
