import { z } from 'zod';
import { ID_PATTERN } from '../../functions/domain/identifiers.ts';

/**
 * The response `data` shapes, for the OpenAPI document only: the handlers build them as plain objects
 * (functions/domain/provisioning-request.ts), and test/infra checks that these schemas have exactly that
 * type and CRM.COM's field order.
 */
const crmDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/)
  .describe('YYYY-MM-DDTHH:MM:SS in the operator time zone');
const hexId = z.string().regex(ID_PATTERN).describe('32 uppercase hex characters');

const unit = z.object({
  community_name: z.string(),
  id: hexId,
  name: z.string(),
  group_name: z.string(),
  description: z.string(),
  alternative_code: z.string(),
});

const user = z.object({ person_name: z.string(), username: z.string(), id: z.string() });

export const provisioningRequestSchema = z.object({
  scheduled_date: crmDate,
  response: z.string().nullable().describe('The reply of the headend, as JSON text'),
  error_code: z.string().nullable(),
  priority: z.enum(['REGULAR', 'EXPRESS']),
  error_description: z.string().nullable(),
  sequence_number: z.string().nullable().describe("This deployment's order of sending"),
  number: z.string().describe('Decimal, unique per deployment'),
  process_id: z.string().nullable().describe('The run or batch that sent it'),
  name: z.string().nullable(),
  parameters_set: z
    .array(z.object({ id: hexId }).catchall(z.string()))
    .describe('Includes one entry with smartcard_ca_id and one with sub_provisioning_distribution_id'),
  process_immediately: z.union([z.literal(0), z.literal(1)]),
  request: z.string().nullable().describe('The command sent to the headend, as JSON text'),
  log_information: z.object({
    updated_date: crmDate,
    created_date: crmDate,
    created_by_unit: unit,
    updated_by_unit: unit,
    created_by_user: user,
    updated_by_user: user,
  }),
  life_cycle_state: z.enum(['PENDING', 'COMPLETED', 'REJECTED']),
  type: z.literal('CLEAR_CA_PIN'),
  process_name: z.literal('RESET_PIN_CODE_UTILITY'),
  id: hexId,
  reference_number: z.string().nullable().describe("The headend's reference"),
  executed_date: crmDate.nullable(),
});

export const tokenDataSchema = z.object({ token: hexId });

export const emptyDataSchema = z.object({});

/** An event's `detail` (SPEC §3.1): the request as show answers it, without the wire record, with its organisation. */
export const provisioningEventDetailSchema = provisioningRequestSchema
  .omit({ request: true, response: true })
  .extend({ organisation: z.string().describe('The organisation of the request') });

/** The whole EventBridge event, as a rule target or an API destination (and the local webhook) receives it. */
export const provisioningEventSchema = z.object({
  version: z.string(),
  id: z.string().describe('EventBridge’s id of this delivery; dedupe on detail.id, delivery is at least once'),
  'detail-type': z.enum(['Provisioning Request Completed', 'Provisioning Request Rejected']),
  source: z.string().describe('clear-pin.<stage>'),
  account: z.string(),
  time: z.string().describe('When the request became final, ISO 8601 UTC'),
  region: z.string(),
  resources: z.array(z.string()),
  detail: provisioningEventDetailSchema,
});
