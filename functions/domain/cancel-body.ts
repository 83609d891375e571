import * as z from 'zod/mini';
import { ApiError } from './errors.ts';
import type { Identifier } from './identifiers.ts';
import { identifierValue, parseOrThrow, withCode } from './validation.ts';

/** The body of `POST /provisioning/provisioning_requests/cancel` (SPEC §2.7; the token is checked before this). */
export const cancelBodySchema = z.strictObject({
  token: z.string(),
  provisioning_request_identifier: z
    .strictObject({ id: z.optional(identifierValue), number: z.optional(identifierValue) })
    .check(
      z.superRefine((value, ctx) => {
        const given = [value.id, value.number].filter((v) => v !== undefined);
        if (given.length !== 1 || given[0] === '') {
          ctx.addIssue({
            code: 'custom',
            message: 'must specify exactly one of id, number, not empty',
            ...withCode('INVALID_IDENTIFIER'),
          });
        }
      }),
    ),
});

export const parseCancelBody = (body: unknown): Identifier<'id' | 'number'> => {
  const { provisioning_request_identifier: identifier } = parseOrThrow(cancelBodySchema, body);
  if (identifier.id !== undefined) return { field: 'id', value: identifier.id };
  if (identifier.number !== undefined) return { field: 'number', value: identifier.number };
  throw new ApiError(
    'INVALID_IDENTIFIER',
    'An identifier must specify exactly one of its fields.',
    'provisioning_request_identifier',
  );
};
