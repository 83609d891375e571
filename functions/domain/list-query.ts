import * as z from 'zod/mini';
import { parseCrmDate } from './dates.ts';
import { type CrmField, parseFieldsSet } from './fields-set.ts';
import {
  type Identifier,
  MAX_IDENTIFIER_LENGTH,
  parseQueryIdentifier,
  SMARTCARD_FIELDS,
  SUBSCRIPTION_FIELDS,
} from './identifiers.ts';
import type { LifeCycleState, Priority } from './provisioning-request.ts';
import { parseOrThrow, withCode } from './validation.ts';

export const MAX_RESULTS = 50;
export const MAX_OFFSET = 10_000;

const DATE_FORMS = 'YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD, or ISO 8601 with Z or an offset, from 1970';

/** CRM.COM's query-string identifier (`number=S60507`), checked with the other fields so one error answers. */
const queryIdentifier = <K extends string>(fields: readonly K[]) =>
  z.string().check(
    z.maxLength(MAX_IDENTIFIER_LENGTH + 32, { error: `must be at most ${MAX_IDENTIFIER_LENGTH} characters` }),
    z.refine((text) => parseQueryIdentifier(text, fields) !== undefined, {
      error: `must be ${fields.map((f) => `${f}=<…>`).join(' or ')}`,
      ...withCode('INVALID_IDENTIFIER'),
    }),
  );

/** A date in the formats of `scheduled_date`; whether it is one does not depend on the zone. */
const queryDate = z.string().check(
  z.refine((text) => (parseCrmDate(text, 'UTC')?.getTime() ?? -1) >= 0, {
    error: `must be ${DATE_FORMS}`,
    ...withCode('INVALID_DATE'),
  }),
);

const wholeNumber = (min: number, max: number) =>
  z.string().check(
    z.refine((text) => /^\d{1,6}$/.test(text) && Number(text) >= min && Number(text) <= max, {
      error: `must be a whole number from ${min} to ${max}`,
    }),
  );

/** The query of `GET /provisioning/provisioning_requests/list` (SPEC §2.6; the token is checked before this). */
export const listQuerySchema = z.strictObject({
  token: z.string(),
  life_cycle_state: z.optional(
    z.enum(['PENDING', 'COMPLETED', 'REJECTED'], { error: 'must be PENDING, COMPLETED or REJECTED' }),
  ),
  subscription_identifier: z.optional(queryIdentifier(SUBSCRIPTION_FIELDS)),
  smartcard_identifier: z.optional(queryIdentifier(SMARTCARD_FIELDS)),
  created_date_from: z.optional(queryDate),
  created_date_to: z.optional(queryDate),
  priority: z.optional(z.enum(['REGULAR', 'EXPRESS'], { error: 'must be REGULAR or EXPRESS' })),
  number_of_results: z.optional(wholeNumber(1, MAX_RESULTS)),
  offset: z.optional(wholeNumber(0, MAX_OFFSET)),
  fields_set: z.optional(z.string()),
});

export type ListCriteria = {
  state?: LifeCycleState;
  priority?: Priority;
  subscription?: Identifier<'id' | 'number'>;
  smartcard?: Identifier<'id' | 'serial_number' | 'alternative_code'>;
  /** Created at or after. */
  from?: Date;
  /** Created before this (exclusive): the inclusive `created_date_to`, to the end of its day or its second. */
  until?: Date;
  limit: number;
  offset: number;
  fields?: CrmField[];
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const TO_THE_SECOND = /T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The end of `created_date_to`, which is inclusive: a date covers its whole day and a time its whole second (CRM.COM
 * shows creation dates to the second, so `…T10:00:00` must find a request created at 10:00:00.4).
 */
const endOf = (text: string, timeZone: string): Date | undefined => {
  if (DATE_ONLY.test(text)) {
    const [y, m, d] = text.split('-').map(Number);
    const next = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, (d ?? 1) + 1)).toISOString().slice(0, 10);
    return parseCrmDate(next, timeZone);
  }
  const instant = parseCrmDate(text, timeZone);
  if (!instant) return undefined;
  return new Date(instant.getTime() + (TO_THE_SECOND.test(text) ? 1000 : 1));
};

/** Validates a list query into criteria, or throws the catalogue error of its first wrong parameter (SPEC §2.5). */
export const parseListQuery = (query: unknown, options: { timeZone: string }): ListCriteria => {
  const parsed = parseOrThrow(listQuerySchema, query);
  const pick = <K extends string>(text: string | undefined, fields: readonly K[]) =>
    text === undefined ? undefined : parseQueryIdentifier(text, fields);
  return {
    state: parsed.life_cycle_state,
    priority: parsed.priority,
    subscription: pick(parsed.subscription_identifier, SUBSCRIPTION_FIELDS),
    smartcard: pick(parsed.smartcard_identifier, SMARTCARD_FIELDS),
    from: parsed.created_date_from === undefined ? undefined : parseCrmDate(parsed.created_date_from, options.timeZone),
    until: parsed.created_date_to === undefined ? undefined : endOf(parsed.created_date_to, options.timeZone),
    limit: parsed.number_of_results === undefined ? MAX_RESULTS : Number(parsed.number_of_results),
    offset: parsed.offset === undefined ? 0 : Number(parsed.offset),
    fields: parsed.fields_set === undefined ? undefined : parseFieldsSet(parsed.fields_set),
  };
};
