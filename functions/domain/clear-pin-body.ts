import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { DAY_MS, parseCrmDate } from './dates.ts';
import { ApiError } from './errors.ts';
import { type Identifier, SMARTCARD_FIELDS, SUBSCRIPTION_FIELDS } from './identifiers.ts';
import type { Priority } from './provisioning-request.ts';
import { identifierValue, parseOrThrow, withCode } from './validation.ts';

const exactlyOne = <K extends string>(fields: readonly K[]) =>
  z
    .strictObject(
      Object.fromEntries(fields.map((f) => [f, z.optional(identifierValue)])) as Record<
        K,
        z.ZodMiniOptional<typeof identifierValue>
      >,
    )
    .check(
      z.superRefine((value, ctx) => {
        const given = fields.filter((f) => (value as Record<string, unknown>)[f] !== undefined);
        if (given.length !== 1) {
          ctx.addIssue({
            code: 'custom',
            message: `must specify exactly one of ${fields.join(', ')} (got ${given.length})`,
            ...withCode('INVALID_IDENTIFIER'),
          });
        } else if ((value as Record<string, string>)[given[0] as string] === '') {
          ctx.addIssue({ code: 'custom', message: `${given[0]} must not be empty`, ...withCode('INVALID_IDENTIFIER') });
        }
      }),
    );

const processImmediately = z.optional(
  z.union([z.boolean(), z.literal(1), z.literal(0), z.literal('true'), z.literal('false')], {
    error: 'must be true, false, 1, 0, "true" or "false"',
  }),
);

/** The body of `POST /nagravision/provisioning_requests/clear_pin` (also the source of the OpenAPI and API Gateway models). */
export const clearPinBodySchema = z.strictObject({
  token: z.string(),
  subscription_identifier: exactlyOne(SUBSCRIPTION_FIELDS),
  smartcard_identifier: exactlyOne(SMARTCARD_FIELDS),
  process_immediately: processImmediately,
  // Whether the text is a date does not depend on the zone; the zone and the 366-day limit are applied after.
  scheduled_date: z.optional(
    z.string().check(
      z.refine((text) => parseCrmDate(text, 'UTC') !== undefined, {
        error: 'must be YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD, or ISO 8601 with Z or an offset',
        ...withCode('INVALID_DATE'),
      }),
    ),
  ),
  priority: z.optional(z.enum(['REGULAR', 'EXPRESS'], { error: 'must be REGULAR or EXPRESS' })),
});

export type ClearPinCommand = {
  subscription: Identifier<(typeof SUBSCRIPTION_FIELDS)[number]>;
  smartcard: Identifier<(typeof SMARTCARD_FIELDS)[number]>;
  processImmediately: boolean;
  /** What the client asked for; absent means now. A past date is simply due at once. */
  scheduledAt?: Date;
  priority: Priority;
};

/**
 * What makes two creates "the same request" for the Idempotency-Key (SPEC §2.3): the parsed command, so that
 * `true`, `1` and `"true"`, or `2026-03-01` and `2026-03-01T00:00:00`, are the same; the token is not part of it.
 */
export const commandFingerprint = (command: ClearPinCommand): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        command.subscription.field,
        command.subscription.value,
        command.smartcard.field,
        command.smartcard.value,
        command.processImmediately,
        command.scheduledAt?.toISOString() ?? null,
        command.priority,
      ]),
    )
    .digest('hex');

/** Dates further ahead than this are refused (SPEC §2.3). */
export const MAX_SCHEDULE_AHEAD_MS = 366 * DAY_MS;

/** The earliest `scheduled_date` taken (SPEC §2.5). */
const EPOCH = 0;

const pick = <K extends string>(identifier: Partial<Record<K, string>>): Identifier<K> => {
  const [field, value] = Object.entries(identifier).find(([, v]) => v !== undefined) as [K, string];
  return { field, value };
};

/** Printable ASCII, space included (HTTP has already trimmed any leading or trailing space); also the OpenAPI's. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,128}$/;

/**
 * The optional Idempotency-Key header, every value the request carried, checked with the fields (after the token,
 * SPEC §2.5 order): the key, or undefined without one. Two values are refused, as two Content-Types are: a request
 * must not be deduplicated on a key its client may not have meant.
 */
export const checkIdempotencyKey = (values: readonly string[]): string | undefined => {
  if (values.length > 1) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      'Idempotency-Key must be given once',
    );
  }
  const [key] = values;
  if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      'Idempotency-Key must be 1–128 printable characters',
    );
  }
  return key;
};

/** Validates a clear-PIN body (token already checked) into a command, or throws the catalogue error. */
export const parseClearPinBody = (body: unknown, options: { timeZone: string; now: Date }): ClearPinCommand => {
  const parsed = parseOrThrow(clearPinBodySchema, body);
  let scheduledAt: Date | undefined;
  if (parsed.scheduled_date !== undefined) {
    const date = parseCrmDate(parsed.scheduled_date, options.timeZone);
    if (!date) {
      throw new ApiError(
        'INVALID_DATE',
        'The date is not valid.',
        'scheduled_date must be YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD, or ISO 8601 with Z or an offset',
      );
    }
    if (date.getTime() - options.now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
      throw new ApiError('INVALID_DATE', 'The date is not valid.', 'scheduled_date is more than 366 days ahead');
    }
    if (date.getTime() < EPOCH) {
      throw new ApiError('INVALID_DATE', 'The date is not valid.', 'scheduled_date is before 1970-01-01');
    }
    scheduledAt = date;
  }
  const flag = parsed.process_immediately;
  return {
    subscription: pick(parsed.subscription_identifier),
    smartcard: pick(parsed.smartcard_identifier),
    processImmediately: flag === true || flag === 1 || flag === 'true',
    scheduledAt,
    priority: parsed.priority ?? 'REGULAR',
  };
};
