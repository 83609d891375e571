// A namespace import lets esbuild drop zod's unused locales (~360 KB); `import { z }` keeps them all.
import * as z from 'zod';
import { ApiError } from './errors.ts';
import { type Identifier, MAX_IDENTIFIER_LENGTH, parseQueryIdentifier } from './identifiers.ts';
import { CRM_FIELDS, type CrmProvisioningRequest } from './provisioning-request.ts';
import { parseOrThrow } from './validation.ts';

/** The query of `GET /provisioning/provisioning_requests/show` (token checked before this). */
export const showQuerySchema = z.strictObject({
  token: z.string(),
  provisioning_request_identifier: z.string(),
  fields_set: z.string().optional(),
});

export const REQUEST_IDENTIFIER_FIELDS = ['id', 'number'] as const;

export type ShowQuery = {
  identifier: Identifier<(typeof REQUEST_IDENTIFIER_FIELDS)[number]>;
  fields?: (keyof CrmProvisioningRequest)[];
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
  const fields = parsed.fields_set.split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !(CRM_FIELDS as readonly string[]).includes(f));
  if (unknown !== undefined) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      `fields_set: ${unknown} is not a field`,
    );
  }
  return { identifier, fields: fields as (keyof CrmProvisioningRequest)[] };
};

/** Keeps only the selected fields, in CRM.COM's order. */
export const selectFields = (
  view: CrmProvisioningRequest,
  fields: (keyof CrmProvisioningRequest)[] | undefined,
): Partial<CrmProvisioningRequest> =>
  fields === undefined
    ? view
    : Object.fromEntries(CRM_FIELDS.filter((f) => fields.includes(f)).map((f) => [f, view[f]]));
