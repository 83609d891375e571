import * as z from 'zod/mini';
import { ApiError } from './errors.ts';
import { type CrmField, parseFieldsSet } from './fields-set.ts';
import {
  type Identifier,
  MAX_IDENTIFIER_LENGTH,
  parseQueryIdentifier,
  REQUEST_IDENTIFIER_FIELDS,
} from './identifiers.ts';
import { parseOrThrow } from './validation.ts';

/** The query of `GET /provisioning/provisioning_requests/show` (token checked before this). */
export const showQuerySchema = z.strictObject({
  token: z.string(),
  provisioning_request_identifier: z.string(),
  fields_set: z.optional(z.string()),
});

export type ShowQuery = {
  identifier: Identifier<(typeof REQUEST_IDENTIFIER_FIELDS)[number]>;
  fields?: CrmField[];
};

export const parseShowQuery = (query: unknown): ShowQuery => {
  const parsed = parseOrThrow(showQuerySchema, query);
  const identifier = parseQueryIdentifier(parsed.provisioning_request_identifier, REQUEST_IDENTIFIER_FIELDS);
  if (!identifier) {
    throw new ApiError(
      'INVALID_IDENTIFIER',
      'An identifier must specify exactly one of its fields.',
      'provisioning_request_identifier must be id=<ID> or number=<NUMBER>',
    );
  }
  if (identifier.value.length > MAX_IDENTIFIER_LENGTH) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      `provisioning_request_identifier must be at most ${MAX_IDENTIFIER_LENGTH} characters`,
    );
  }
  if (parsed.fields_set === undefined) return { identifier };
  return { identifier, fields: parseFieldsSet(parsed.fields_set) };
};
